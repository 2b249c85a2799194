import * as path from 'node:path';
import { type Disk, type DiskFile, FileNotFoundError, type OpenMode } from './disk.js';
import type { Random } from './random.js';

interface MemoryInode {
  data: Uint8Array;
  length: number;
  durable: Uint8Array;
}

/** What a simulated crash does to writes that were not yet synced. */
export interface CrashOptions {
  /** When given, an unsynced tail may survive in part (a torn write) instead of vanishing whole. */
  readonly random?: Random;
  /** Probability that an unsynced tail is torn rather than dropped. */
  readonly tornWriteProbability?: number;
}

/**
 * An in-memory disk with the durability rules of a real one: `crash()` throws away every
 * write not covered by `datasync` and every directory change not covered by
 * `fsyncDirectory`. Used by tests and the simulator.
 */
export class MemoryDisk implements Disk {
  private readonly entries = new Map<string, MemoryInode>();
  private durableEntries = new Map<string, MemoryInode>();
  private readonly directories = new Set<string>(['/', '.']);
  syncCount = 0;

  async open(filePath: string, mode: OpenMode): Promise<DiskFile> {
    const key = normalize(filePath);
    let inode = this.entries.get(key);
    if (inode === undefined) {
      if (mode === 'read') throw new FileNotFoundError(filePath);
      this.requireDirectory(path.posix.dirname(key), filePath);
      inode = { data: new Uint8Array(256), length: 0, durable: new Uint8Array(0) };
      this.entries.set(key, inode);
    } else if (mode === 'create') {
      inode.length = 0;
    }
    return new MemoryDiskFile(key, inode, this);
  }

  async readFile(filePath: string): Promise<Uint8Array> {
    const inode = this.entries.get(normalize(filePath));
    if (inode === undefined) throw new FileNotFoundError(filePath);
    return inode.data.slice(0, inode.length);
  }

  async rename(fromPath: string, toPath: string): Promise<void> {
    const from = normalize(fromPath);
    const inode = this.entries.get(from);
    if (inode === undefined) throw new FileNotFoundError(fromPath);
    this.entries.delete(from);
    this.entries.set(normalize(toPath), inode);
  }

  async fsyncDirectory(directoryPath: string): Promise<void> {
    const directory = normalize(directoryPath);
    this.syncCount++;
    const next = new Map<string, MemoryInode>();
    for (const [key, inode] of this.durableEntries) {
      if (path.posix.dirname(key) !== directory) next.set(key, inode);
    }
    for (const [key, inode] of this.entries) {
      if (path.posix.dirname(key) === directory) next.set(key, inode);
    }
    this.durableEntries = next;
  }

  async list(directoryPath: string): Promise<string[]> {
    const directory = normalize(directoryPath);
    const names = new Set<string>();
    for (const key of this.entries.keys()) {
      if (path.posix.dirname(key) === directory) names.add(path.posix.basename(key));
    }
    for (const key of this.directories) {
      if (key !== directory && path.posix.dirname(key) === directory) names.add(path.posix.basename(key));
    }
    return [...names].sort();
  }

  async remove(filePath: string): Promise<void> {
    const key = normalize(filePath);
    this.entries.delete(key);
    for (const entry of [...this.entries.keys()]) {
      if (entry.startsWith(`${key}/`)) this.entries.delete(entry);
    }
  }

  async makeDirectory(directoryPath: string): Promise<void> {
    let directory = normalize(directoryPath);
    while (!this.directories.has(directory)) {
      this.directories.add(directory);
      directory = path.posix.dirname(directory);
    }
  }

  async exists(filePath: string): Promise<boolean> {
    const key = normalize(filePath);
    return this.entries.has(key) || this.directories.has(key);
  }

  /** Loses everything not yet durable, as a power cut would. */
  crash(options: CrashOptions = {}): void {
    this.entries.clear();
    for (const [key, inode] of this.durableEntries) {
      const synced = inode.durable;
      let tornBytes = 0;
      // A torn write keeps a prefix of the unsynced tail.
      const unsyncedTail = inode.length - synced.byteLength;
      if (options.random !== undefined && unsyncedTail > 0) {
        if (options.random.chance(options.tornWriteProbability ?? 0)) {
          tornBytes = options.random.nextInt(unsyncedTail + 1);
        }
      }
      const length = synced.byteLength + tornBytes;
      const data = new Uint8Array(Math.max(256, length));
      data.set(synced);
      data.set(inode.data.subarray(synced.byteLength, length), synced.byteLength);
      const survivor: MemoryInode = { data, length, durable: data.slice(0, length) };
      this.entries.set(key, survivor);
      this.durableEntries.set(key, survivor);
    }
  }

  /** Flips one bit of a stored file, durable copy included: silent media corruption. */
  flipBit(filePath: string, byteOffset: number, bit = 0): void {
    const inode = this.entries.get(normalize(filePath));
    if (inode === undefined) throw new FileNotFoundError(filePath);
    if (byteOffset < inode.length) inode.data[byteOffset] = (inode.data[byteOffset] ?? 0) ^ (1 << bit);
    if (byteOffset < inode.durable.byteLength) {
      inode.durable[byteOffset] = (inode.durable[byteOffset] ?? 0) ^ (1 << bit);
    }
  }

  private requireDirectory(directory: string, filePath: string): void {
    if (!this.directories.has(directory)) throw new FileNotFoundError(filePath);
  }
}

class MemoryDiskFile implements DiskFile {
  constructor(
    readonly path: string,
    private readonly inode: MemoryInode,
    private readonly disk: MemoryDisk,
  ) {}

  async append(data: Uint8Array): Promise<void> {
    this.writeSync(data, this.inode.length);
  }

  async writeAt(data: Uint8Array, offset: number): Promise<void> {
    this.writeSync(data, offset);
  }

  async readAt(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.inode.length, offset + length);
    return this.inode.data.slice(Math.min(offset, end), end);
  }

  async size(): Promise<number> {
    return this.inode.length;
  }

  async truncate(size: number): Promise<void> {
    if (size < this.inode.length) this.inode.length = size;
    else this.writeSync(new Uint8Array(size - this.inode.length), this.inode.length);
  }

  async datasync(): Promise<void> {
    this.disk.syncCount++;
    this.inode.durable = this.inode.data.slice(0, this.inode.length);
  }

  async close(): Promise<void> {}

  private writeSync(data: Uint8Array, offset: number): void {
    const end = offset + data.byteLength;
    if (end > this.inode.data.byteLength) {
      const grown = new Uint8Array(Math.max(end, this.inode.data.byteLength * 2));
      grown.set(this.inode.data.subarray(0, this.inode.length));
      this.inode.data = grown;
    }
    this.inode.data.set(data, offset);
    this.inode.length = Math.max(this.inode.length, end);
  }
}

function normalize(filePath: string): string {
  return path.posix.normalize(filePath.replaceAll('\\', '/'));
}
