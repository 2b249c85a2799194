import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type ChainEntry,
  type ChainLogOptions,
  openChainLog,
  type SegmentedChainLog,
} from '../../../src/chains/index.js';
import { type Disk, type DiskFile, ManualClock, MemoryDisk } from '../../../src/lib/index.js';
import { NodeDisk } from '../../../src/lib/node/index.js';

export const DIRECTORY = '/chains/orders';
export const SMALL_SEGMENT_BYTES = 1024;

/** A record whose payload bytes are derived from its offset and epoch, so any mix-up shows. */
export function record(
  offset: number,
  epoch: number,
  payloadBytes = 40,
  appendedAtMs = 1_000 + offset,
): ChainEntry {
  const payload = new Uint8Array(payloadBytes);
  for (let position = 0; position < payloadBytes; position++)
    payload[position] = (offset * 7 + epoch + position) & 0xff;
  return { offset, epoch, kind: offset % 5 === 0 ? 'epoch-start' : 'data', appendedAtMs, payload };
}

export function records(from: number, count: number, epoch: number, payloadBytes = 40): ChainEntry[] {
  return Array.from({ length: count }, (_, position) => record(from + position, epoch, payloadBytes));
}

/** Records as plain tuples, so failures print readably. */
export function summary(list: readonly ChainEntry[]): [number, number, string, number, string][] {
  return list.map((entry) => [
    entry.offset,
    entry.epoch,
    entry.kind,
    entry.appendedAtMs,
    Buffer.from(entry.payload).toString('hex'),
  ]);
}

export function openLog(
  disk: Disk,
  options: Partial<ChainLogOptions> = {},
  directory = DIRECTORY,
): Promise<SegmentedChainLog> {
  return openChainLog(disk, directory, {
    sync: { mode: 'batch' },
    retention: {},
    clock: new ManualClock(),
    segmentBytes: SMALL_SEGMENT_BYTES,
    ...options,
  });
}

/** Every record of the log, read in small steps. */
export async function readAll(log: SegmentedChainLog, maxRecords = 7): Promise<ChainEntry[]> {
  const result: ChainEntry[] = [];
  let offset = log.startOffset;
  while (offset < log.endOffset) {
    const batch = await log.read(offset, maxRecords, 1 << 20);
    if (batch.length === 0) throw new Error(`read from ${offset} returned nothing before ${log.endOffset}`);
    result.push(...batch);
    offset = batch.at(-1)!.offset + 1;
  }
  return result;
}

/** A disk under test plus the chain's directory on it, on memory or real files. */
export interface ChainDiskFixture {
  readonly disk: Disk;
  readonly directory: string;
  cleanup(): Promise<void>;
}

export async function memoryFixture(): Promise<ChainDiskFixture> {
  return { disk: new MemoryDisk(), directory: DIRECTORY, cleanup: async () => {} };
}

export async function nodeFixture(): Promise<ChainDiskFixture> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-chain-log-'));
  return {
    disk: new NodeDisk(),
    directory: path.join(root, 'orders'),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Counts file datasyncs and directory fsyncs, and can hold file datasyncs until released. */
export class CountingDisk implements Disk {
  datasyncs = 0;
  directoryFsyncs = 0;
  /** Files opened for reading and not yet closed. */
  readFilesOpen = 0;
  private gate: { promise: Promise<void>; release: () => void } | undefined;

  constructor(private readonly inner: Disk = new MemoryDisk()) {}

  /** Later datasyncs wait (counted as started) until `release`. */
  hold(): void {
    let release = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.gate = { promise, release };
  }

  release(): void {
    const gate = this.gate;
    this.gate = undefined;
    gate?.release();
  }

  async open(filePath: string, mode: 'read' | 'append' | 'create'): Promise<DiskFile> {
    const file = await this.inner.open(filePath, mode);
    if (mode === 'read') this.readFilesOpen++;
    return Object.assign(Object.create(file) as DiskFile, {
      path: file.path,
      close: async () => {
        if (mode === 'read') this.readFilesOpen--;
        await file.close();
      },
      datasync: async () => {
        this.datasyncs++;
        if (this.gate !== undefined) await this.gate.promise;
        await file.datasync();
      },
    });
  }

  readFile(filePath: string): Promise<Uint8Array> {
    return this.inner.readFile(filePath);
  }

  rename(fromPath: string, toPath: string): Promise<void> {
    return this.inner.rename(fromPath, toPath);
  }

  async fsyncDirectory(directoryPath: string): Promise<void> {
    this.directoryFsyncs++;
    await this.inner.fsyncDirectory(directoryPath);
  }

  list(directoryPath: string): Promise<string[]> {
    return this.inner.list(directoryPath);
  }

  remove(filePath: string): Promise<void> {
    return this.inner.remove(filePath);
  }

  makeDirectory(directoryPath: string): Promise<void> {
    return this.inner.makeDirectory(directoryPath);
  }

  exists(filePath: string): Promise<boolean> {
    return this.inner.exists(filePath);
  }
}

/** Lets queued promise callbacks run `turns` times. */
export async function yieldTurns(turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await Promise.resolve();
}
