import * as path from 'node:path';
import { type Disk, type DiskFile, FileNotFoundError, type OpenMode } from './disk.js';
import type { Random } from './random.js';

/**
 * One file. Bytes from `written` to `length` are zeros that are not stored (a file sized up by
 * `truncate` is sparse, as on a real file system), so a preallocated 64 MiB segment costs only
 * what was written into it.
 */
interface MemoryInode {
  /** Capacity for the stored bytes; zero from `written` on. */
  data: Uint8Array;
  /** End of the stored bytes (at most `length`). */
  written: number;
  length: number;
  /** The file as the last `datasync` left it. */
  durable: DurableImage;
  /** Lowest offset changed since the last `datasync`; `Infinity` when nothing was. */
  unsyncedFrom: number;
}

interface DurableImage {
  /** The stored bytes; zeros from their end up to `length`. */
  readonly bytes: Uint8Array;
  readonly length: number;
}

const EMPTY_IMAGE: DurableImage = { bytes: new Uint8Array(0), length: 0 };

function newInode(): MemoryInode {
  return { data: new Uint8Array(256), written: 0, length: 0, durable: EMPTY_IMAGE, unsyncedFrom: Infinity };
}

/** The inode a crash leaves: `image` made both the current and the durable content. */
function inodeOf(image: DurableImage): MemoryInode {
  const data = new Uint8Array(Math.max(256, image.bytes.byteLength));
  data.set(image.bytes);
  return {
    data,
    written: image.bytes.byteLength,
    length: image.length,
    durable: image,
    unsyncedFrom: Infinity,
  };
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

  /**
   * `writesNow`: its files offer `writeAtNow` and `datasyncNow`, as a quick device's `NodeDisk`
   * with inline writes does, so that callers' paths for a write finished in the same turn run
   * here too.
   */
  constructor(private readonly options: { readonly writesNow?: boolean } = {}) {}

  async open(filePath: string, mode: OpenMode): Promise<DiskFile> {
    const key = normalize(filePath);
    let inode = this.entries.get(key);
    if (inode === undefined) {
      if (mode === 'read') throw new FileNotFoundError(filePath);
      this.requireDirectory(path.posix.dirname(key), filePath);
      inode = newInode();
      this.entries.set(key, inode);
    } else if (mode === 'create') {
      resize(inode, 0);
    }
    return new MemoryDiskFile(key, inode, this, this.options.writesNow === true);
  }

  async readFile(filePath: string): Promise<Uint8Array> {
    const inode = this.entries.get(normalize(filePath));
    if (inode === undefined) throw new FileNotFoundError(filePath);
    return contentOf(inode, 0, inode.length);
  }

  /**
   * The file's stored bytes and its size, the rest up to the size being zeros: a copy of a
   * preallocated file without its megabytes of zeros (`truncate` the copy up to `size`).
   */
  async readStored(filePath: string): Promise<{ readonly bytes: Uint8Array; readonly size: number }> {
    const inode = this.entries.get(normalize(filePath));
    if (inode === undefined) throw new FileNotFoundError(filePath);
    return { bytes: contentOf(inode, 0, Math.min(inode.written, inode.length)), size: inode.length };
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
      // A torn write keeps a prefix of the unsynced writes: from the lowest offset changed since
      // the last sync to the end of the stored bytes (an appended tail, or records written
      // into a preallocated file).
      const unsyncedFrom = Math.min(inode.unsyncedFrom, synced.length);
      const unsyncedBytes = Math.max(0, inode.written - unsyncedFrom);
      if (options.random !== undefined && unsyncedBytes > 0) {
        if (options.random.chance(options.tornWriteProbability ?? 0)) {
          tornBytes = options.random.nextInt(unsyncedBytes + 1);
        }
      }
      const survivor = inodeOf(tornBytes === 0 ? synced : tornImage(synced, inode, unsyncedFrom, tornBytes));
      this.entries.set(key, survivor);
      this.durableEntries.set(key, survivor);
    }
  }

  /** Flips one bit of a stored file, durable copy included: silent media corruption. */
  flipBit(filePath: string, byteOffset: number, bit = 0): void {
    const inode = this.entries.get(normalize(filePath));
    if (inode === undefined) throw new FileNotFoundError(filePath);
    if (byteOffset < inode.length) {
      const [byte] = contentOf(inode, byteOffset, byteOffset + 1);
      const unsyncedFrom = inode.unsyncedFrom;
      store(inode, Uint8Array.of((byte ?? 0) ^ (1 << bit)), byteOffset);
      inode.unsyncedFrom = unsyncedFrom;
    }
    const durable = inode.durable;
    if (byteOffset < durable.length) {
      const bytes = new Uint8Array(Math.max(durable.bytes.byteLength, byteOffset + 1));
      bytes.set(durable.bytes);
      bytes[byteOffset] = (bytes[byteOffset] ?? 0) ^ (1 << bit);
      inode.durable = { bytes, length: durable.length };
    }
  }

  private requireDirectory(directory: string, filePath: string): void {
    if (!this.directories.has(directory)) throw new FileNotFoundError(filePath);
  }
}

class MemoryDiskFile implements DiskFile {
  readonly writeAtNow?: (data: Uint8Array, offset: number) => boolean;
  readonly datasyncNow?: () => undefined;

  constructor(
    readonly path: string,
    private readonly inode: MemoryInode,
    private readonly disk: MemoryDisk,
    writesNow: boolean,
  ) {
    if (writesNow) {
      this.writeAtNow = (data, offset) => {
        store(this.inode, data, offset);
        return true;
      };
      this.datasyncNow = () => {
        this.syncNow();
        return undefined;
      };
    }
  }

  async append(data: Uint8Array): Promise<void> {
    store(this.inode, data, this.inode.length);
  }

  async writeAt(data: Uint8Array, offset: number): Promise<void> {
    store(this.inode, data, offset);
  }

  async readAt(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.inode.length, offset + length);
    return contentOf(this.inode, Math.min(offset, end), end);
  }

  async size(): Promise<number> {
    return this.inode.length;
  }

  async dataEnd(): Promise<number> {
    return Math.min(this.inode.written, this.inode.length);
  }

  async truncate(size: number): Promise<void> {
    resize(this.inode, size);
  }

  async datasync(): Promise<void> {
    this.syncNow();
  }

  private syncNow(): void {
    this.disk.syncCount++;
    const inode = this.inode;
    inode.durable = { bytes: inode.data.slice(0, inode.written), length: inode.length };
    inode.unsyncedFrom = Infinity;
  }

  async close(): Promise<void> {}
}

/** Writes `data` at `offset`, growing the file (with zeros before `offset` if it lies past the end). */
function store(inode: MemoryInode, data: Uint8Array, offset: number): void {
  const end = offset + data.byteLength;
  if (end > inode.data.byteLength) {
    const grown = new Uint8Array(Math.max(end, inode.data.byteLength * 2));
    grown.set(inode.data.subarray(0, inode.written));
    inode.data = grown;
  }
  inode.data.set(data, offset);
  inode.written = Math.max(inode.written, end);
  inode.length = Math.max(inode.length, end);
  inode.unsyncedFrom = Math.min(inode.unsyncedFrom, offset);
}

/** Cuts or extends (with zeros, stored as nothing) the file to `size` bytes. */
function resize(inode: MemoryInode, size: number): void {
  if (size < inode.written) {
    // Zeros beyond `written`, so that growing the file again reads zeros there.
    inode.data.fill(0, size, inode.written);
    inode.written = size;
  }
  inode.unsyncedFrom = Math.min(inode.unsyncedFrom, size, inode.length);
  inode.length = size;
}

/** A copy of the file's bytes from `start` to `end` (within its length). */
function contentOf(inode: MemoryInode, start: number, end: number): Uint8Array {
  const content = new Uint8Array(end - start);
  const storedEnd = Math.min(end, inode.written);
  if (storedEnd > start) content.set(inode.data.subarray(start, storedEnd));
  return content;
}

/** The durable image with the first `tornBytes` of the unsynced writes (from `unsyncedFrom`) on it. */
function tornImage(
  synced: DurableImage,
  inode: MemoryInode,
  unsyncedFrom: number,
  tornBytes: number,
): DurableImage {
  const tornEnd = unsyncedFrom + tornBytes;
  const bytes = new Uint8Array(Math.max(synced.bytes.byteLength, tornEnd));
  bytes.set(synced.bytes);
  bytes.set(inode.data.subarray(unsyncedFrom, tornEnd), unsyncedFrom);
  return { bytes, length: Math.max(synced.length, tornEnd) };
}

function normalize(filePath: string): string {
  return path.posix.normalize(filePath.replaceAll('\\', '/'));
}
