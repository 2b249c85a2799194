import { constants as fsConstants, writeSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import {
  type Disk,
  DiskError,
  type DiskFile,
  FileNotFoundError,
  type OpenMode,
  type OpenOptions,
} from '../disk.js';
import type { StepObserver, StepStartObserver } from '../step-durations.js';
import { INLINE_MAX_BATCH_BYTES, INLINE_SYNC_WAIT_MS, InlineIoPolicy } from './inline-io-policy.js';
import { traceStage } from './stage-trace.js';
import { SyncThread } from './sync-thread.js';

/** How a file opened for inline IO decides, and reports, what runs on the event loop. */
interface InlineIo {
  readonly policy: InlineIoPolicy;
  readonly onStep: StepObserver;
  readonly onStepStart: StepStartObserver;
  readonly beforeInlineSync: () => void;
  /** The device's sync thread, started at the first inline sync. */
  syncThread(): SyncThread;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** The typed error for a failed file operation. */
function diskError(operation: string, filePath: string, error: unknown): DiskError | FileNotFoundError {
  return isNotFound(error) ? new FileNotFoundError(filePath) : new DiskError(operation, filePath, error);
}

async function wrap<T>(operation: string, filePath: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw diskError(operation, filePath, error);
  }
}

const SETTLED: Promise<void> = Promise.resolve();

class NodeDiskFile implements DiskFile {
  private endOffset: number;
  /** Bytes written since the last fdatasync. */
  private unsyncedBytes = 0;
  /** The fdatasync in flight, which `close` waits for: the sync thread holds the descriptor. */
  private syncing: Promise<void> | undefined;

  constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
    initialSize: number,
    /** Set when writes and syncs may run on the calling thread (see `InlineIoPolicy`). */
    private readonly inline: InlineIo | undefined,
    /** Syncs go through the thread pool whatever `inline` allows (`OpenOptions.syncOffThread`). */
    private readonly syncOffThread = false,
    /** Small writes run inline whatever the last sync took (`OpenOptions.writeInline`). */
    private readonly writeInline = false,
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

  writeAtNow(data: Uint8Array, offset: number): boolean {
    if (!this.writesInline(data.byteLength)) return false;
    this.endOffset = Math.max(this.endOffset, offset + data.byteLength);
    this.writeInlineNow('write', data, offset);
    return true;
  }

  private async write(operation: string, data: Uint8Array, offset: number): Promise<void> {
    if (this.writesInline(data.byteLength)) {
      this.writeInlineNow(operation, data, offset);
      return;
    }
    this.unsyncedBytes += data.byteLength;
    await wrap(operation, this.path, () => writeFully(this.handle, data, offset));
  }

  /** Whether a write of `bytes` runs on the calling thread (see `OpenOptions.writeInline`). */
  private writesInline(bytes: number): boolean {
    const inline = this.inline;
    if (inline === undefined) return false;
    return this.writeInline ? bytes <= INLINE_MAX_BATCH_BYTES : inline.policy.inline(bytes);
  }

  private writeInlineNow(operation: string, data: Uint8Array, offset: number): void {
    const inline = this.inline as InlineIo;
    this.unsyncedBytes += data.byteLength;
    inline.onStepStart();
    const startedMs = performance.now();
    try {
      let written = 0;
      while (written < data.byteLength) {
        written += writeSync(this.handle.fd, data, written, data.byteLength - written, offset + written);
      }
    } catch (error) {
      throw diskError(operation, this.path, error);
    }
    inline.onStep('inline-write', performance.now() - startedMs);
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

  /**
   * Reads the file from its end, `DATA_END_READ_BYTES` at a time into one buffer, to its last
   * byte that is not zero: a preallocated 64 MiB segment's zeros in 64 reads and no allocation
   * (a fresh buffer per read costs its page faults, several times the read itself here).
   */
  async dataEnd(): Promise<number> {
    return wrap('read', this.path, async () => {
      const buffer = Buffer.allocUnsafe(Math.min(DATA_END_READ_BYTES, this.endOffset));
      let end = this.endOffset;
      while (end > 0) {
        const start = Math.max(0, end - buffer.byteLength);
        let filled = 0;
        while (filled < end - start) {
          const { bytesRead } = await this.handle.read(buffer, filled, end - start - filled, start + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        const pieceEnd = nonZeroEnd(buffer.subarray(0, filled));
        if (pieceEnd > 0) return start + pieceEnd;
        end = start;
      }
      return 0;
    });
  }

  async truncate(size: number): Promise<void> {
    this.endOffset = size;
    await wrap('truncate', this.path, () => this.handle.truncate(size));
  }

  datasync(): Promise<void> {
    try {
      return this.datasyncNow() ?? SETTLED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  datasyncNow(): Promise<void> | undefined {
    traceStage?.('sync-start', 0);
    const inline = this.inline;
    const bytes = this.unsyncedBytes;
    this.unsyncedBytes = 0;
    // Off the thread: its duration includes waiting for a turn of the loop, which would tell the
    // policy the device is slow when the loop is merely busy.
    if (inline === undefined || this.syncOffThread) return this.track(this.poolSync());
    const startedMs = performance.now();
    const syncThread = inline.policy.inline(bytes) ? inline.syncThread() : undefined;
    if (syncThread === undefined || syncThread.busy)
      return this.track(this.timed(this.poolSync(), inline, startedMs));
    // Before the loop waits (and outside the step the wait is measured as).
    inline.beforeInlineSync();
    inline.onStepStart();
    let rest: Promise<void> | undefined;
    try {
      rest = syncThread.sync(this.handle.fd, INLINE_SYNC_WAIT_MS);
    } catch (error) {
      inline.onStep('inline-sync', performance.now() - startedMs);
      throw diskError('fdatasync', this.path, error);
    }
    // Measured before any await, so the step holds the wait alone.
    inline.onStep('inline-sync', performance.now() - startedMs);
    // Still running on the sync thread when the wait ran out.
    if (rest !== undefined)
      return this.track(
        this.timed(
          wrap('fdatasync', this.path, () => rest),
          inline,
          startedMs,
        ),
      );
    this.synced(inline, startedMs);
    return undefined;
  }

  private poolSync(): Promise<void> {
    return wrap('fdatasync', this.path, () => this.handle.datasync());
  }

  /** `sync`, a sync the policy judges the device by, which started at `startedMs`, once it ends. */
  private async timed(sync: Promise<void>, inline: InlineIo, startedMs: number): Promise<void> {
    await sync;
    this.synced(inline, startedMs);
  }

  /** The sync that started at `startedMs` ended: the policy hears how long it took. */
  private synced(inline: InlineIo, startedMs: number): void {
    inline.policy.synced(performance.now() - startedMs);
    traceStage?.('sync-done', 0);
  }

  /** Remembers the sync in flight for `close`, which waits for it: the sync thread holds the descriptor. */
  private track(sync: Promise<void>): Promise<void> {
    this.syncing = sync;
    const forget = (): void => {
      if (this.syncing === sync) this.syncing = undefined;
    };
    sync.then(forget, forget);
    return sync;
  }

  async close(): Promise<void> {
    await this.syncing?.catch(() => {});
    await wrap('close', this.path, () => this.handle.close());
  }
}

/** Bytes read at a time by `dataEnd`. */
const DATA_END_READ_BYTES = 1024 * 1024;
const ZERO_BYTES = Buffer.alloc(64 * 1024);

/** The offset after the last byte of `bytes` that is not zero (0 when every byte is), by memcmp. */
function nonZeroEnd(bytes: Buffer): number {
  let end = bytes.byteLength;
  while (end > 0) {
    const start = Math.max(0, end - ZERO_BYTES.byteLength);
    if (bytes.compare(ZERO_BYTES, 0, end - start, start, end) !== 0) break;
    end = start;
  }
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
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
   * Write on the calling thread, and fdatasync on the disk's sync thread with the calling thread
   * waiting up to `INLINE_SYNC_WAIT_MS`, instead of through Node's thread pool while the disk is
   * quick (`InlineIoPolicy`). Each trip through the pool costs a turn of the event loop, which
   * on a busy node is milliseconds, while an fdatasync on a local SSD takes tens of
   * microseconds: inline, a Ready's persist finishes in the same turn, and a sync that turns out
   * slow holds the loop no longer than the wait. After a slow sync, or for a large batch, writes
   * and syncs go through the pool until syncs are quick again. Reads, opens and directory
   * operations always use the pool.
   */
  readonly inlineWrites?: boolean;
  /** Told how long each inline write and fdatasync held the event loop. */
  readonly onStep?: StepObserver;
  /** Told as each inline write and fdatasync starts. */
  readonly onStepStart?: StepStartObserver;
  /**
   * Called right before the event loop waits for an inline fdatasync: the node hands its sockets
   * what waits for the end of the turn (`endOfTurn.writeNow`), so messages travel meanwhile.
   */
  readonly beforeInlineSync?: () => void;
}

const ignoreStep: StepObserver = () => {};
const ignoreStepStart: StepStartObserver = () => {};
const ignoreBlocking = (): void => {};

/** The production disk: Node's file system with real fdatasync and directory fsync. */
export class NodeDisk implements Disk {
  /** One policy for the device: a slow sync on one file says the disk is busy for all. */
  private readonly inlineIo: InlineIo | undefined;
  private thread: SyncThread | undefined;

  constructor(options: NodeDiskOptions = {}) {
    this.inlineIo =
      options.inlineWrites === true
        ? {
            policy: new InlineIoPolicy(),
            onStep: options.onStep ?? ignoreStep,
            onStepStart: options.onStepStart ?? ignoreStepStart,
            beforeInlineSync: options.beforeInlineSync ?? ignoreBlocking,
            syncThread: () => {
              this.thread ??= new SyncThread();
              return this.thread;
            },
          }
        : undefined;
  }

  async open(filePath: string, mode: OpenMode, options: OpenOptions = {}): Promise<DiskFile> {
    const inline = options.background === true ? undefined : this.inlineIo;
    const flags =
      mode === 'read'
        ? fsConstants.O_RDONLY
        : mode === 'append'
          ? fsConstants.O_RDWR | fsConstants.O_CREAT
          : fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_TRUNC;
    return wrap('open', filePath, async () => {
      const handle = await fs.open(filePath, flags, 0o644);
      const { size } = await handle.stat();
      return new NodeDiskFile(
        filePath,
        handle,
        size,
        inline,
        options.syncOffThread === true,
        options.writeInline === true,
      );
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
