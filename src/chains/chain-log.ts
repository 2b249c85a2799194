/**
 * A chain replica's log on its disk (`ChainLog`): segment files named by their first offset, a
 * CRC-32C per record, a sparse offset index, a promise file, torn-tail recovery, retention by
 * bytes and age, and the chain's sync policy with group commit. docs/CHAINS.md (Storage).
 *
 * The calls keep the log's shape (offsets, epochs, promise) up to date at once and queue the
 * file changes for the writer, which carries them out in call order.
 */
import * as path from 'node:path';
import { assert, type Clock, type Disk, type Logger, ValidationError } from '../lib/index.js';
import { createStoreMetrics, StoreDirectory, type StoreMetrics } from '../store/index.js';
import {
  chainSegmentBytesProblems,
  DEFAULT_CHAIN_SEGMENT_BYTES,
  MAX_CHAIN_READ_BYTES,
  MAX_CHAIN_READ_RECORDS,
} from './chain-log-limits.js';
import { recoverChainLog } from './chain-log-recovery.js';
import { ChainLogTail } from './chain-log-tail.js';
import { ChainLogWriter } from './chain-log-writer.js';
import { encodeChainEntry } from './chain-record-codec.js';
import { MAX_CHAIN_RECORD_BYTES } from './definition-limits.js';
import {
  ChainEntryInvalidError,
  ChainLogClosedError,
  ChainOffsetOutOfRangeError,
  ChainOffsetTruncatedError,
  ChainRecordTooLargeError,
} from './errors.js';
import type { ChainEntry, ChainLog, ChainRetention, ChainSyncPolicy, EpochStart } from './types.js';

export interface ChainLogOptions {
  readonly sync: ChainSyncPolicy;
  readonly retention: ChainRetention;
  /** Times syncs and drives the `interval` policy's timer. */
  readonly clock: Clock;
  /** The chain's name, for errors and logs; default the directory's name. */
  readonly name?: string;
  /** Size at which a segment is sealed; default `DEFAULT_CHAIN_SEGMENT_BYTES`. */
  readonly segmentBytes?: number;
  /** Largest payload of one record (the chain's definition); default and at most `MAX_CHAIN_RECORD_BYTES`. */
  readonly maxRecordBytes?: number;
  /** Told about torn writes cut off at open. */
  readonly logger?: Logger;
}

const ENTRY_KINDS = new Set<string>(['data', 'epoch-start']);

export function validateChainLogOptions(options: ChainLogOptions): string[] {
  const problems: string[] = [];
  const { segmentBytes, maxRecordBytes, sync, retention } = options;
  if (segmentBytes !== undefined)
    problems.push(...chainSegmentBytesProblems(segmentBytes).map((problem) => `segmentBytes: ${problem}`));
  if (
    maxRecordBytes !== undefined &&
    (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 0 || maxRecordBytes > MAX_CHAIN_RECORD_BYTES)
  ) {
    problems.push(`maxRecordBytes must be an integer in 0..${MAX_CHAIN_RECORD_BYTES}`);
  }
  if (sync.mode === 'interval' && (!Number.isFinite(sync.intervalMs) || sync.intervalMs <= 0)) {
    problems.push('sync.intervalMs must be a positive number of milliseconds');
  }
  if (retention.maxBytes !== undefined && !(retention.maxBytes >= 0)) {
    problems.push('retention.maxBytes must be at least 0');
  }
  if (retention.maxAgeMs !== undefined && !(retention.maxAgeMs >= 0)) {
    problems.push('retention.maxAgeMs must be at least 0');
  }
  return problems;
}

/** Opens (creating if needed) the chain log in `directory`, cutting off a torn tail. */
export async function openChainLog(
  disk: Disk,
  directory: string,
  options: ChainLogOptions,
): Promise<SegmentedChainLog> {
  const problems = validateChainLogOptions(options);
  if (problems.length > 0) throw new ValidationError('chain log options', problems);
  if (!(await disk.exists(directory))) {
    await disk.makeDirectory(directory);
    await disk.fsyncDirectory(path.posix.dirname(directory));
  }
  const metrics = createStoreMetrics();
  const storeDirectory = new StoreDirectory(disk, directory, options.clock, metrics);
  const recovered = await recoverChainLog(storeDirectory, options.logger);
  metrics.recoveredTornBytes = recovered.tornBytes;
  const log = new SegmentedChainLog(storeDirectory, options, metrics, recovered);
  await log.start();
  return log;
}

export class SegmentedChainLog implements ChainLog {
  private readonly name: string;
  private readonly maxRecordBytes: number;
  private readonly writer: ChainLogWriter;
  private readonly history: EpochStart[];
  private end: number;
  private promised: number;
  /** The newest records, for readers at the log's end. */
  private readonly tail = new ChainLogTail();
  /** Where a `restartAt` not yet carried out by the writer put the log's start (else 0). */
  private restartedAt = 0;
  private closed = false;

  /** Use `openChainLog`. */
  constructor(
    directory: StoreDirectory,
    private readonly options: ChainLogOptions,
    private readonly counters: StoreMetrics,
    recovered: Awaited<ReturnType<typeof recoverChainLog>>,
  ) {
    this.name = options.name ?? path.posix.basename(directory.path);
    this.maxRecordBytes = options.maxRecordBytes ?? MAX_CHAIN_RECORD_BYTES;
    this.history = recovered.epochHistory;
    this.end = recovered.segments.at(-1)?.nextOffset ?? 0;
    this.promised = recovered.promisedEpoch;
    this.writer = new ChainLogWriter(directory, recovered.segments, counters, {
      name: this.name,
      sync: options.sync,
      segmentBytes: options.segmentBytes ?? DEFAULT_CHAIN_SEGMENT_BYTES,
      clock: options.clock,
      onStartMoved: (startOffset) => this.forgetEpochsBefore(startOffset),
    });
  }

  /** @internal */
  async start(): Promise<void> {
    await this.writer.start();
  }

  /** Counters for the metrics exporter (the Raft store's set); live, do not modify. */
  get metrics(): Readonly<StoreMetrics> {
    return this.counters;
  }

  get startOffset(): number {
    return Math.max(this.writer.startOffset, this.restartedAt);
  }

  get endOffset(): number {
    return this.end;
  }

  get durableOffset(): number {
    return this.writer.durableOffset;
  }

  get promisedEpoch(): number {
    return this.promised;
  }

  get lastEpoch(): number {
    return this.history.at(-1)?.epoch ?? 0;
  }

  epochHistory(): readonly EpochStart[] {
    return [...this.history];
  }

  append(entries: readonly ChainEntry[]): void {
    this.checkUsable();
    if (entries.length === 0) return;
    let epoch = this.lastEpoch;
    for (const [position, entry] of entries.entries()) {
      epoch = this.checkEntry(entry, this.end + position, epoch);
    }
    const frames = entries.map(encodeChainEntry);
    let bytes = 0;
    for (const frame of frames) bytes += frame.byteLength;
    this.writer.checkRoom(bytes);
    for (const entry of entries) {
      if (entry.epoch > this.lastEpoch || this.history.length === 0) {
        this.history.push({ epoch: entry.epoch, offset: entry.offset });
      }
    }
    this.end += entries.length;
    this.counters.appends++;
    this.counters.appendedEntries += entries.length;
    this.writer.enqueue({ kind: 'append', entries, frames }, this.end);
    this.tail.add(entries);
  }

  truncateFrom(offset: number): void {
    this.checkUsable();
    if (!Number.isSafeInteger(offset) || offset < this.startOffset || offset > this.end) {
      throw new ChainOffsetOutOfRangeError(this.name, offset, this.startOffset, this.end, 'truncation');
    }
    if (offset === this.end) return;
    while (this.history.length > 0 && this.history.at(-1)!.offset >= offset) this.history.pop();
    this.end = offset;
    this.writer.enqueue({ kind: 'truncate', fromOffset: offset }, this.end);
    this.tail.truncateFrom(offset);
  }

  restartAt(offset: number): void {
    this.checkUsable();
    if (!Number.isSafeInteger(offset) || offset < this.startOffset) {
      throw new ChainOffsetOutOfRangeError(this.name, offset, this.startOffset, this.end, 'restart');
    }
    this.history.length = 0;
    this.end = offset;
    this.restartedAt = offset;
    this.writer.enqueue({ kind: 'restart', offset }, this.end);
    this.tail.clear();
  }

  setPromisedEpoch(epoch: number): void {
    this.checkUsable();
    assert(
      Number.isSafeInteger(epoch) && epoch >= 0,
      `promised epoch must be a non-negative integer, got ${epoch}`,
    );
    assert(epoch >= this.promised, `a promise cannot go back from epoch ${this.promised} to ${epoch}`);
    if (epoch === this.promised) return;
    this.promised = epoch;
    this.writer.enqueue({ kind: 'promise', epoch }, this.end);
  }

  durable(): Promise<number> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return this.writer.waitDurable();
  }

  read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ChainEntry[]> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    assert(Number.isSafeInteger(fromOffset), `read offset must be an integer, got ${fromOffset}`);
    if (fromOffset > this.end) {
      return Promise.reject(
        new ChainOffsetOutOfRangeError(this.name, fromOffset, this.startOffset, this.end, 'read'),
      );
    }
    if (fromOffset < this.startOffset) {
      return Promise.reject(new ChainOffsetTruncatedError(this.name, fromOffset, this.startOffset));
    }
    if (fromOffset === this.end) return Promise.resolve([]);
    const records = Math.min(MAX_CHAIN_READ_RECORDS, Math.max(1, Math.floor(maxRecords)));
    const bytes = Math.min(MAX_CHAIN_READ_BYTES, Math.max(1, Math.floor(maxBytes)));
    // A reader at the log's end (following it as records commit) gets them from memory.
    const kept = this.tail.read(fromOffset, records, bytes);
    if (kept !== undefined) return Promise.resolve(kept);
    return this.writer.read(fromOffset, records, bytes);
  }

  applyRetention(nowMs: number, keepFrom = Number.POSITIVE_INFINITY, trimBelow = 0): Promise<void> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    const { retention } = this.options;
    if (retention.maxBytes === undefined && retention.maxAgeMs === undefined && trimBelow <= this.startOffset)
      return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.writer.enqueue(
        { kind: 'retention', nowMs, retention, keepFrom, trimBelow, settle: { resolve, reject } },
        this.end,
      );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
  }

  /** Checks one appended record; returns its epoch (the next record's lowest allowed). */
  private checkEntry(entry: ChainEntry, expectedOffset: number, lastEpoch: number): number {
    if (entry.offset !== expectedOffset) {
      throw new ChainOffsetOutOfRangeError(
        this.name,
        entry.offset,
        this.startOffset,
        expectedOffset,
        'append',
      );
    }
    const invalid = (reason: string): never => {
      throw new ChainEntryInvalidError(this.name, entry.offset, reason);
    };
    if (!Number.isSafeInteger(entry.epoch) || entry.epoch < 0) invalid(`epoch ${entry.epoch} is not a count`);
    if (entry.epoch < lastEpoch) invalid(`epoch ${entry.epoch} after epoch ${lastEpoch}`);
    if (!ENTRY_KINDS.has(entry.kind)) invalid(`unknown kind ${String(entry.kind)}`);
    if (!Number.isFinite(entry.appendedAtMs) || entry.appendedAtMs < 0) {
      invalid(`appendedAtMs ${entry.appendedAtMs} is not a time`);
    }
    if (!(entry.payload instanceof Uint8Array)) invalid('payload is not bytes');
    if (entry.payload.byteLength > this.maxRecordBytes) {
      throw new ChainRecordTooLargeError(this.name, entry.payload.byteLength, this.maxRecordBytes);
    }
    return entry.epoch;
  }

  /** Retention dropped the records before `startOffset`: an epoch that began earlier now begins there. */
  private forgetEpochsBefore(startOffset: number): void {
    while (this.history.length > 1 && this.history[1]!.offset <= startOffset) this.history.shift();
    const first = this.history[0];
    if (first !== undefined && first.offset < startOffset)
      this.history[0] = { epoch: first.epoch, offset: startOffset };
  }

  private refusal(): Error | undefined {
    if (this.closed) return new ChainLogClosedError(this.name);
    return this.writer.failed;
  }

  private checkUsable(): void {
    const refusal = this.refusal();
    if (refusal !== undefined) throw refusal;
  }
}
