import { fdatasyncSync, constants as fsConstants, writeSync } from 'node:fs';
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
import { InlineIoPolicy } from './inline-io-policy.js';

/** How a file opened for inline IO decides, and reports, what runs on the event loop. */
interface InlineIo {
  readonly policy: InlineIoPolicy;
  readonly onStep: StepObserver;
  readonly onStepStart: StepStartObserver;
  readonly beforeInlineSync: () => void;
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
  /** Bytes written since the last fdatasync. */
  private unsyncedBytes = 0;

  constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
    initialSize: number,
    /** Set when writes and syncs may run on the calling thread (see `InlineIoPolicy`). */
    private readonly inline: InlineIo | undefined,
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
    this.unsyncedBytes += data.byteLength;
    const inline = this.inline;
    if (inline === undefined || !inline.policy.inline(data.byteLength)) {
      await wrap(operation, this.path, () => writeFully(this.handle, data, offset));
      return;
    }
    await wrap(operation, this.path, async () => {
      inline.onStepStart();
      const startedMs = performance.now();
      let written = 0;
      while (written < data.byteLength) {
        written += writeSync(this.handle.fd, data, written, data.byteLength - written, offset + written);
      }
      inline.onStep('inline-write', performance.now() - startedMs);
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
    const inline = this.inline;
    const bytes = this.unsyncedBytes;
    this.unsyncedBytes = 0;
    if (inline === undefined) {
      await wrap('fdatasync', this.path, () => this.handle.datasync());
      return;
    }
    const inlineSync = inline.policy.inline(bytes);
    if (inlineSync) {
      // Before the loop blocks (and outside the step the sync is measured as).
      inline.beforeInlineSync();
      inline.onStepStart();
    }
    const startedMs = performance.now();
    if (inlineSync) {
      await wrap('fdatasync', this.path, async () => fdatasyncSync(this.handle.fd));
      inline.onStep('inline-sync', performance.now() - startedMs);
    } else {
      await wrap('fdatasync', this.path, () => this.handle.datasync());
    }
    inline.policy.synced(performance.now() - startedMs);
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
   * Write and fdatasync on the calling thread instead of Node's thread pool while the disk is
   * quick (`InlineIoPolicy`). Each trip through the pool costs a turn of the event loop, which
   * on a busy node is milliseconds, while an fdatasync on a local SSD takes tens of
   * microseconds: inline, a Ready's persist finishes in the same turn. After a slow sync, or for
   * a large batch, writes and syncs go through the pool until syncs are quick again, so a busy
   * device does not stall the node. Reads, opens and directory operations always use the pool.
   */
  readonly inlineWrites?: boolean;
  /** Told how long each inline write and fdatasync held the event loop. */
  readonly onStep?: StepObserver;
  /** Told as each inline write and fdatasync starts. */
  readonly onStepStart?: StepStartObserver;
  /**
   * Called right before an inline fdatasync blocks the event loop: the node hands its sockets
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

  constructor(options: NodeDiskOptions = {}) {
    this.inlineIo =
      options.inlineWrites === true
        ? {
            policy: new InlineIoPolicy(),
            onStep: options.onStep ?? ignoreStep,
            onStepStart: options.onStepStart ?? ignoreStepStart,
            beforeInlineSync: options.beforeInlineSync ?? ignoreBlocking,
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
      return new NodeDiskFile(filePath, handle, size, inline);
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
