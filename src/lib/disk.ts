import { fdatasyncSync, constants as fsConstants, writeSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MeshError } from './errors.js';
import type { Random } from './random.js';

/** An open file. Writes become durable only after `datasync` returns. */
export interface DiskFile {
  readonly path: string;
  /** Appends at the end of the file. */
  append(data: Uint8Array): Promise<void>;
  /** Writes at an absolute byte offset. */
  writeAt(data: Uint8Array, offset: number): Promise<void>;
  /** Reads up to `length` bytes at `offset`; shorter at the end of the file. */
  readAt(offset: number, length: number): Promise<Uint8Array>;
  size(): Promise<number>;
  truncate(size: number): Promise<void>;
  /** Makes every write so far durable (fdatasync). */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export type OpenMode = 'read' | 'append' | 'create';

/**
 * Files with explicit durability. `create` truncates or creates; `append` creates if
 * missing and keeps content. A new or renamed directory entry is durable only after
 * `fsyncDirectory` on its parent.
 */
export interface Disk {
  open(filePath: string, mode: OpenMode): Promise<DiskFile>;
  readFile(filePath: string): Promise<Uint8Array>;
  rename(fromPath: string, toPath: string): Promise<void>;
  fsyncDirectory(directoryPath: string): Promise<void>;
  /** Names (not paths) of the entries in a directory, sorted. */
  list(directoryPath: string): Promise<string[]>;
  remove(filePath: string): Promise<void>;
  makeDirectory(directoryPath: string): Promise<void>;
  exists(filePath: string): Promise<boolean>;
}

export class DiskError extends MeshError {
  constructor(operation: string, filePath: string, cause?: unknown) {
    super(
      'DISK_IO',
      `${operation} failed for ${filePath}${cause instanceof Error ? `: ${cause.message}` : ''}`,
      {
        cause,
        details: { operation, path: filePath },
      },
    );
  }
}

export class FileNotFoundError extends MeshError {
  constructor(filePath: string) {
    super('FILE_NOT_FOUND', `no such file: ${filePath}`, { details: { path: filePath } });
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

async function wrap<T>(operation: string, filePath: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (isNotFound(error)) throw new FileNotFoundError(filePath);
    throw new DiskError(operation, filePath, error);
  }
}

class NodeDiskFile implements DiskFile {
  private endOffset: number;

  constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
    initialSize: number,
    private readonly inline: boolean,
  ) {
    this.endOffset = initialSize;
  }

  async append(data: Uint8Array): Promise<void> {
    const offset = this.endOffset;
    this.endOffset += data.byteLength;
    await this.write('append', data, offset);
  }

  async writeAt(data: Uint8Array, offset: number): Promise<void> {
    this.endOffset = Math.max(this.endOffset, offset + data.byteLength);
    await this.write('write', data, offset);
  }

  private async write(operation: string, data: Uint8Array, offset: number): Promise<void> {
    if (!this.inline) {
      await wrap(operation, this.path, () => writeFully(this.handle, data, offset));
      return;
    }
    await wrap(operation, this.path, async () => {
      let written = 0;
      while (written < data.byteLength) {
        written += writeSync(this.handle.fd, data, written, data.byteLength - written, offset + written);
      }
    });
  }

  async readAt(offset: number, length: number): Promise<Uint8Array> {
    return wrap('read', this.path, async () => {
      const buffer = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await this.handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? buffer : buffer.subarray(0, filled);
    });
  }

  async size(): Promise<number> {
    return this.endOffset;
  }

  async truncate(size: number): Promise<void> {
    this.endOffset = size;
    await wrap('truncate', this.path, () => this.handle.truncate(size));
  }

  async datasync(): Promise<void> {
    if (this.inline) await wrap('fdatasync', this.path, async () => fdatasyncSync(this.handle.fd));
    else await wrap('fdatasync', this.path, () => this.handle.datasync());
  }

  async close(): Promise<void> {
    await wrap('close', this.path, () => this.handle.close());
  }
}

async function writeFully(handle: fs.FileHandle, data: Uint8Array, offset: number): Promise<void> {
  let written = 0;
  while (written < data.byteLength) {
    const { bytesWritten } = await handle.write(data, written, data.byteLength - written, offset + written);
    written += bytesWritten;
  }
}

export interface NodeDiskOptions {
  /**
   * Write and fdatasync on the calling thread instead of Node's thread pool. Each trip through
   * the pool costs a turn of the event loop, which on a busy node is milliseconds, while an
   * fdatasync on a local SSD takes tens of microseconds: inline, a Ready's persist finishes in
   * the same turn. On a slow disk (fsync in milliseconds) the pool keeps the node responsive
   * during the wait instead. Reads, opens and directory operations always use the pool.
   */
  readonly inlineWrites?: boolean;
}

/** The production disk: Node's file system with real fdatasync and directory fsync. */
export class NodeDisk implements Disk {
  private readonly inlineWrites: boolean;

  constructor(options: NodeDiskOptions = {}) {
    this.inlineWrites = options.inlineWrites ?? false;
  }

  async open(filePath: string, mode: OpenMode): Promise<DiskFile> {
    const flags =
      mode === 'read'
        ? fsConstants.O_RDONLY
        : mode === 'append'
          ? fsConstants.O_RDWR | fsConstants.O_CREAT
          : fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_TRUNC;
    return wrap('open', filePath, async () => {
      const handle = await fs.open(filePath, flags, 0o644);
      const { size } = await handle.stat();
      return new NodeDiskFile(filePath, handle, size, this.inlineWrites);
    });
  }

  async readFile(filePath: string): Promise<Uint8Array> {
    return wrap('read', filePath, async () => new Uint8Array(await fs.readFile(filePath)));
  }

  async rename(fromPath: string, toPath: string): Promise<void> {
    await wrap('rename', fromPath, () => fs.rename(fromPath, toPath));
  }

  async fsyncDirectory(directoryPath: string): Promise<void> {
    await wrap('fsync directory', directoryPath, async () => {
      const handle = await fs.open(directoryPath, fsConstants.O_RDONLY);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  async list(directoryPath: string): Promise<string[]> {
    return wrap('list', directoryPath, async () => (await fs.readdir(directoryPath)).sort());
  }

  async remove(filePath: string): Promise<void> {
    await wrap('remove', filePath, () => fs.rm(filePath, { force: true, recursive: true }));
  }

  async makeDirectory(directoryPath: string): Promise<void> {
    await wrap('mkdir', directoryPath, async () => {
      await fs.mkdir(directoryPath, { recursive: true });
    });
  }

  async exists(filePath: string): Promise<boolean> {
    try {
      await fs.access(filePath);
      return true;
    } catch {
      return false;
    }
  }
}

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
