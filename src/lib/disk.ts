import { MeshError } from './errors.js';

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
  /**
   * An offset past which the file holds nothing but zeros (the unwritten rest of a file sized
   * up by `truncate`), found more cheaply than by `readAt` (a memory disk knows it; a real one
   * reads from the end into one buffer): the reader of a preallocated file skips megabytes of
   * zeros. At most `size()`; absent where the disk has no cheaper way.
   */
  dataEnd?(): Promise<number>;
  /** Cuts the file to `size` bytes, or extends it with zeros (sparse where the file system can). */
  truncate(size: number): Promise<void>;
  /** Makes every write so far durable (fdatasync). */
  datasync(): Promise<void>;
  /**
   * Writes at `offset` before returning, when this disk would write these bytes on the calling
   * thread anyway (a quick device, see `NodeDiskOptions.inlineWrites`); false, having done
   * nothing, when it would not. A failed write throws. Absent where the disk never writes so.
   */
  writeAtNow?(data: Uint8Array, offset: number): boolean;
  /**
   * Starts an fdatasync of every write so far: undefined when they are durable on return (an
   * inline sync that finished within its wait), else the promise of the sync's end. A failure
   * throws or rejects. Absent where the disk never syncs on the calling thread. It spares a
   * caller who can go on at once (a log's write that finished in this turn) the promise a
   * `datasync` costs.
   */
  datasyncNow?(): Promise<void> | undefined;
  close(): Promise<void>;
}

export type OpenMode = 'read' | 'append' | 'create';

export interface OpenOptions {
  /**
   * A large file no one waits on promptly (a snapshot): its writes and syncs never run on the
   * calling thread, even on a disk that writes inline, so they cannot hold up the event loop.
   */
  readonly background?: boolean;
  /**
   * A file whose fdatasync many callers share while the process keeps taking work (a chain
   * segment's group commit): its syncs never hold up the calling thread, even on a disk that
   * writes inline (its small writes still may run there).
   */
  readonly syncOffThread?: boolean;
  /**
   * A file written in small pieces whose syncs nobody waits on (an `interval`-synced chain
   * segment): on a disk that writes inline, its writes up to the policy's batch size run on the
   * calling thread whatever the device's last sync took. A slow sync says the device is busy,
   * not that a write to the page cache is slow, and a thread-pool trip per write costs a turn
   * of the event loop and a thread's wake-up.
   */
  readonly writeInline?: boolean;
}

/**
 * Files with explicit durability. `create` truncates or creates; `append` creates if
 * missing and keeps content. A new or renamed directory entry is durable only after
 * `fsyncDirectory` on its parent.
 */
export interface Disk {
  open(filePath: string, mode: OpenMode, options?: OpenOptions): Promise<DiskFile>;
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
