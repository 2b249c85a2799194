/**
 * The one place a chain log's files change. Calls are queued in order and a single loop carries
 * them out: appends are written to the OS as they come, truncations and retention change files
 * once no read is using them, and syncs follow the sync policy. With `batch`, the `durable()`
 * calls of one batch share one fdatasync (group commit), and a batch written while a sync is in
 * flight starts its own beside it (up to `MAX_CHAIN_BATCH_SYNCS_IN_FLIGHT`, each covering every
 * write made before it started) rather than waiting for that sync to end; with
 * `interval`, `durable()` answers once the writes before it reached the OS, and a timer syncs
 * every `intervalMs` through a second, background handle of the segment: nobody waits on that
 * sync, so it runs on the thread pool rather than blocking the event loop (a disk that writes
 * inline would run it there), and its length, which grows with a second's writes, does not tell
 * the disk's inline policy that the device is slow.
 */
import {
  assert,
  type Clock,
  type DiskFile,
  type MeshError,
  type OpenOptions,
  type TimerId,
} from '../lib/index.js';
import { concatBytes, type StoreDirectory, type StoreMetrics, segmentFileName } from '../store/index.js';
import {
  MAX_CHAIN_BATCH_SYNCS_IN_FLIGHT,
  MAX_CHAIN_PENDING_OPERATIONS,
  MAX_CHAIN_QUEUED_BYTES,
} from './chain-log-limits.js';
import { ChainReadFiles } from './chain-read-files.js';
import { encodeChainSegmentHeader } from './chain-record-codec.js';
import { ChainSegment } from './chain-segment.js';
import { locateRecord, readRecords, type SegmentSource } from './chain-segment-reader.js';
import { CHAIN_STATE_FILE_NAME, encodeChainStateFile } from './chain-state-file.js';
import { ChainLogFailedError, ChainOffsetTruncatedError, ChainOverloadedError } from './errors.js';
import type { ChainEntry, ChainRetention, ChainSyncPolicy } from './types.js';

/**
 * The writing handle of a segment syncs off the event loop: while a batch's fdatasync runs, the
 * node keeps taking appends (they form the next batch), pushes and acknowledgements. An inline
 * sync would hold every message to the node until the disk answered, so each hop of a
 * replication round could wait out another process's sync (docs/CHAINS.md "Group commit").
 */
const SEGMENT_OPEN_OPTIONS = { syncOffThread: true } as const;
/**
 * With `interval` sync nobody waits on the writing handle's syncs (the periodic one goes through
 * the background handle), so its writes stay on the event loop even while the device is slow:
 * about 1.1x the acks/s at 16 clients and 7% less CPU per append in alternated runs
 * (docs/BENCHMARKS.md, "CPU per append at 16 clients").
 */
const INTERVAL_SEGMENT_OPEN_OPTIONS = { syncOffThread: true, writeInline: true } as const;

interface Settle<Value> {
  readonly resolve: (value: Value) => void;
  readonly reject: (error: unknown) => void;
}

/** A change to the files, in call order; `endOffsetAfter` is the log's end once it is done. */
export type ChainWrite =
  | {
      readonly kind: 'append';
      readonly entries: readonly ChainEntry[];
      readonly frames: readonly Uint8Array[];
    }
  | { readonly kind: 'truncate'; readonly fromOffset: number }
  | { readonly kind: 'restart'; readonly offset: number }
  | { readonly kind: 'promise'; readonly epoch: number }
  | {
      readonly kind: 'retention';
      readonly nowMs: number;
      readonly retention: ChainRetention;
      /** No segment holding a record at or after this offset is dropped. */
      readonly keepFrom: number;
      /** Segments whose records are all below this offset go whatever the policy (a trim floor). */
      readonly trimBelow: number;
      readonly settle: Settle<void>;
    };

type QueuedWrite = ChainWrite & {
  readonly sequence: number;
  readonly endOffsetAfter: number;
  readonly bytes: number;
};

interface Waiter<Value> extends Settle<Value> {
  readonly sequence: number;
}

export interface ChainLogWriterSettings {
  readonly name: string;
  readonly sync: ChainSyncPolicy;
  readonly segmentBytes: number;
  readonly clock: Clock;
  /** Told the new first offset when retention is about to drop the segments before it. */
  readonly onStartMoved: (startOffset: number) => void;
}

export class ChainLogWriter implements SegmentSource {
  private active: DiskFile | undefined;
  /** With `interval` sync: the handle its periodic syncs go through, and the segment it is of. */
  private intervalSyncFile: { readonly segment: ChainSegment; readonly file: DiskFile } | undefined;
  private readonly readFiles: ChainReadFiles<ChainSegment>;
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;
  private chunkRecords: { readonly frameBytes: number; readonly appendedAtMs: number }[] = [];
  private unsynced = false;

  private queue: QueuedWrite[] = [];
  private inFlight: QueuedWrite[] = [];
  private queuedBytes = 0;
  private lastSequence = 0;
  private executedSequence = 0;
  private syncedSequence = 0;
  /** The newest sequence a sync started (or finished) covers: a write at or below it needs no new sync. */
  private syncStartedSequence = 0;
  /** With `batch` sync: the fdatasyncs in flight, each settled once its result is counted. */
  private readonly batchSyncs = new Set<Promise<void>>();
  private writtenEndOffset: number;
  private durable: number;
  private durableWaiters: Waiter<number>[] = [];
  private readGrants: Waiter<void>[] = [];
  private readers = 0;
  private readersClearWaiters: (() => void)[] = [];
  /** A sync is owed once the writes up to this sequence are written (close, the interval timer). */
  private syncWantedThrough = 0;
  private writing = false;
  private idleWaiters: (() => void)[] = [];
  private failure: MeshError | undefined;
  private timer: TimerId | undefined;
  private lastSyncMs: number;

  constructor(
    private readonly directory: StoreDirectory,
    readonly segments: ChainSegment[],
    private readonly metrics: StoreMetrics,
    private readonly settings: ChainLogWriterSettings,
  ) {
    const endOffset = segments.at(-1)?.nextOffset ?? 0;
    this.writtenEndOffset = endOffset;
    this.durable = endOffset;
    this.lastSyncMs = settings.clock.nowMs();
    this.readFiles = new ChainReadFiles(directory.disk);
  }

  /** Opens the newest segment for appending (creating the first one of a new log). */
  async start(): Promise<void> {
    const last = this.segments.at(-1);
    if (last === undefined) await this.createSegment(0);
    else this.active = await this.directory.disk.open(this.pathOf(last), 'append', this.segmentOpenOptions());
    this.metrics.segments = this.segments.length;
    if (this.settings.sync.mode === 'interval') this.armIntervalTimer(this.settings.sync.intervalMs);
  }

  get startOffset(): number {
    return this.segments[0]!.firstOffset;
  }

  get durableOffset(): number {
    return this.durable;
  }

  /** The failure that stopped the log, if one did. */
  get failed(): MeshError | undefined {
    return this.failure;
  }

  /** Throws CHAIN_OVERLOADED when queueing `bytes` more would pass the log's bounds. */
  checkRoom(bytes: number): void {
    if (this.queue.length >= MAX_CHAIN_PENDING_OPERATIONS) {
      throw new ChainOverloadedError(this.settings.name, `${this.queue.length} writes waiting`);
    }
    if (this.queuedBytes + bytes > MAX_CHAIN_QUEUED_BYTES && this.queuedBytes > 0) {
      throw new ChainOverloadedError(this.settings.name, `${this.queuedBytes} bytes waiting to be written`);
    }
  }

  enqueue(write: ChainWrite, endOffsetAfter: number): void {
    let bytes = 0;
    if (write.kind === 'append') for (const frame of write.frames) bytes += frame.byteLength;
    const cutAt = cutOffset(write);
    if (cutAt !== undefined) this.durable = Math.min(this.durable, cutAt);
    this.lastSequence++;
    this.queue.push({ ...write, sequence: this.lastSequence, endOffsetAfter, bytes });
    this.queuedBytes += bytes;
    this.schedule();
  }

  /** Resolves with the durable offset once every write queued before it is durable (per the policy). */
  waitDurable(): Promise<number> {
    const sequence = this.lastSequence;
    const confirmed = this.settings.sync.mode === 'batch' ? this.syncedSequence : this.executedSequence;
    if (confirmed >= sequence) return Promise.resolve(this.durable);
    if (this.durableWaiters.length >= MAX_CHAIN_PENDING_OPERATIONS) {
      return Promise.reject(new ChainOverloadedError(this.settings.name, 'too many durable() calls waiting'));
    }
    return new Promise((resolve, reject) => {
      this.durableWaiters.push({ sequence, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Reads once every write queued before it is in the files; truncations and retention queued
   * after it wait until it is done, so what it reads stays in place.
   */
  async read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ChainEntry[]> {
    await this.acquireRead();
    try {
      const startOffset = this.startOffset;
      if (fromOffset < startOffset)
        throw new ChainOffsetTruncatedError(this.settings.name, fromOffset, startOffset);
      return await readRecords(this, fromOffset, maxRecords, maxBytes);
    } finally {
      this.releaseRead();
    }
  }

  withFile<Result>(segment: ChainSegment, action: (file: DiskFile) => Promise<Result>): Promise<Result> {
    return this.readFiles.use(segment, this.pathOf(segment), action);
  }

  /** Writes and syncs everything queued, lets reads in progress finish, then closes the files. */
  async close(): Promise<void> {
    if (this.timer !== undefined) this.settings.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.requestSync();
    await this.whenIdle();
    await this.whenReadersClear();
    await this.readFiles.closeAll();
    const active = this.active;
    this.active = undefined;
    await active?.close().catch(() => undefined);
    await this.intervalSyncFile?.file.close().catch(() => undefined);
    this.intervalSyncFile = undefined;
  }

  /** Once the loop has stopped and no sync is in flight (a finishing sync may start the loop again). */
  private async whenIdle(): Promise<void> {
    while (this.writing || this.batchSyncs.size > 0) {
      if (this.writing) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      else await this.whenSyncsSettled();
    }
  }

  /** Once every fdatasync in flight has finished (before a file is cut, closed or left). */
  private async whenSyncsSettled(): Promise<void> {
    while (this.batchSyncs.size > 0) await Promise.allSettled([...this.batchSyncs]);
  }

  /** Asks for a sync covering every write queued so far (none is owed when they are all synced). */
  private requestSync(): void {
    this.syncWantedThrough = this.lastSequence;
    this.schedule();
  }

  private schedule(): void {
    if (this.writing || this.failure !== undefined) return;
    this.writing = true;
    // Started a turn later, so every call made in this turn joins the first batch.
    queueMicrotask(() => void this.drain());
  }

  /** The loop: write everything queued, sync if the policy or a waiter asks, until nothing is left. */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        const batch = this.queue;
        this.queue = [];
        this.queuedBytes = 0;
        if (batch.length > 0) await this.execute(batch);
        if (this.wantsSync()) {
          if (this.settings.sync.mode === 'interval') {
            await this.sync();
            continue;
          }
          // Writes go on while syncs run; with every slot taken, a finishing sync drains again.
          if (this.batchSyncs.size < MAX_CHAIN_BATCH_SYNCS_IN_FLIGHT) {
            this.startBatchSync();
            continue;
          }
        }
        if (batch.length === 0) break;
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.writing = false;
      for (const waiter of this.idleWaiters.splice(0)) waiter();
    }
  }

  private async execute(batch: QueuedWrite[]): Promise<void> {
    this.inFlight = batch;
    let done: QueuedWrite | undefined;
    for (const [position, write] of batch.entries()) {
      switch (write.kind) {
        case 'append':
          await this.writeEntries(write.entries, write.frames);
          break;
        case 'promise':
          // Only the newest promise of a batch needs writing.
          if (!batch.slice(position + 1).some((later) => later.kind === 'promise')) {
            await this.directory.writeFileAtomically(CHAIN_STATE_FILE_NAME, [
              encodeChainStateFile(write.epoch),
            ]);
          }
          break;
        case 'truncate':
        case 'restart':
        case 'retention':
          await this.flush();
          if (done !== undefined) this.markExecuted(done);
          // A sync still running would count writes this one removes as durable.
          await this.whenSyncsSettled();
          await this.whenReadersClear();
          if (write.kind === 'truncate') await this.truncate(write.fromOffset);
          else if (write.kind === 'restart') await this.restart(write.offset);
          else await this.retain(write);
          break;
      }
      done = write;
    }
    await this.flush();
    if (done !== undefined) this.markExecuted(done);
    this.inFlight = [];
  }

  private markExecuted(write: QueuedWrite): void {
    this.executedSequence = write.sequence;
    this.writtenEndOffset = write.endOffsetAfter;
    while (this.readGrants.length > 0 && this.readGrants[0]!.sequence <= write.sequence) {
      this.readers++;
      this.readGrants.shift()!.resolve();
    }
    if (this.settings.sync.mode === 'interval') {
      this.durable = Math.min(this.writtenEndOffset, this.pendingTruncationFloor());
      this.confirm(this.executedSequence);
    }
  }

  private wantsSync(): boolean {
    if (this.syncWantedThrough > this.syncStartedSequence && this.executedSequence >= this.syncWantedThrough)
      return true;
    const sync = this.settings.sync;
    // Besides its timer: appends arriving back to back (no turn of the event loop between
    // them) would otherwise hold the timer off.
    if (sync.mode === 'interval') return this.settings.clock.nowMs() - this.lastSyncMs >= sync.intervalMs;
    // A waiter whose writes are done, and writes no sync started yet covers.
    const first = this.durableWaiters[0];
    return (
      first !== undefined &&
      first.sequence <= this.executedSequence &&
      this.executedSequence > this.syncStartedSequence
    );
  }

  /** With `interval` sync: the periodic (or closing) sync through the background handle. */
  private async sync(): Promise<void> {
    const coveredSequence = this.executedSequence;
    this.syncStartedSequence = coveredSequence;
    this.lastSyncMs = this.settings.clock.nowMs();
    if (this.unsynced) {
      this.unsynced = false;
      await this.directory.datasync(await this.backgroundFile());
    }
    this.syncedSequence = Math.max(this.syncedSequence, coveredSequence);
  }

  /**
   * With `batch` sync: an fdatasync of the active segment covering every write executed so far,
   * not waited for by the loop. With nothing written since the newest sync in flight started,
   * that sync covers the same writes, so its end is waited for instead of a new one.
   */
  private startBatchSync(): void {
    const coveredSequence = this.executedSequence;
    const coveredEndOffset = this.writtenEndOffset;
    this.syncStartedSequence = coveredSequence;
    this.lastSyncMs = this.settings.clock.nowMs();
    let synced: Promise<void>;
    if (this.unsynced) {
      this.unsynced = false;
      synced = this.directory.datasync(this.activeFile());
    } else {
      synced = [...this.batchSyncs].at(-1) ?? Promise.resolve();
    }
    const counted: Promise<void> = synced
      .then(
        () => this.batchSynced(coveredSequence, coveredEndOffset),
        (error: unknown) => {
          if (this.failure === undefined) this.fail(error);
        },
      )
      .finally(() => {
        this.batchSyncs.delete(counted);
        // Waiters may have come while every slot was taken.
        this.schedule();
      });
    this.batchSyncs.add(counted);
  }

  /** A batch sync covering the writes up to `coveredSequence` finished (syncs may finish out of order). */
  private batchSynced(coveredSequence: number, coveredEndOffset: number): void {
    if (this.failure !== undefined || coveredSequence <= this.syncedSequence) return;
    this.syncedSequence = coveredSequence;
    this.durable = Math.min(coveredEndOffset, this.pendingTruncationFloor());
    this.confirm(coveredSequence);
  }

  /** The active segment's background handle (opened again once a newer segment is active). */
  private async backgroundFile(): Promise<DiskFile> {
    const segment = this.activeSegment();
    const current = this.intervalSyncFile;
    if (current?.segment === segment) return current.file;
    this.intervalSyncFile = undefined;
    await current?.file.close();
    const file = await this.directory.disk.open(this.pathOf(segment), 'append', { background: true });
    this.intervalSyncFile = { segment, file };
    return file;
  }

  private confirm(sequence: number): void {
    while (this.durableWaiters.length > 0 && this.durableWaiters[0]!.sequence <= sequence) {
      this.durableWaiters.shift()!.resolve(this.durable);
    }
  }

  /** The lowest offset a truncation not yet carried out will cut at (Infinity without one). */
  private pendingTruncationFloor(): number {
    let floor = Number.POSITIVE_INFINITY;
    for (const write of [...this.inFlight, ...this.queue]) {
      const cutAt = cutOffset(write);
      if (cutAt !== undefined && write.sequence > this.executedSequence) floor = Math.min(floor, cutAt);
    }
    return floor;
  }

  private async writeEntries(entries: readonly ChainEntry[], frames: readonly Uint8Array[]): Promise<void> {
    for (const [position, frame] of frames.entries()) {
      const entry = entries[position]!;
      await this.makeRoomFor(frame.byteLength, entry.offset);
      this.chunks.push(frame);
      this.chunkBytes += frame.byteLength;
      this.chunkRecords.push({ frameBytes: frame.byteLength, appendedAtMs: entry.appendedAtMs });
    }
  }

  /** Seals the active segment (synced first) and starts the next when `frameBytes` would overfill it. */
  private async makeRoomFor(frameBytes: number, offset: number): Promise<void> {
    const segment = this.activeSegment();
    if (segment.recordCount + this.chunkRecords.length === 0) return;
    if (segment.sizeBytes + this.chunkBytes + frameBytes <= this.settings.segmentBytes) return;
    await this.flush();
    // The syncs in flight are of this segment: they finish before it is synced and closed.
    await this.whenSyncsSettled();
    if (this.unsynced) {
      this.unsynced = false;
      await this.directory.datasync(this.activeFile());
    }
    await this.activeFile().close();
    this.active = undefined;
    await this.createSegment(offset);
  }

  /** A segment's header and name are durable before any record goes in (a sealed segment is whole). */
  private async createSegment(firstOffset: number): Promise<void> {
    const file = await this.directory.disk.open(
      this.directory.pathOf(segmentFileName(firstOffset)),
      'create',
      this.segmentOpenOptions(),
    );
    const header = encodeChainSegmentHeader(firstOffset);
    await file.append(header);
    await this.directory.datasync(file);
    await this.directory.fsync();
    this.metrics.bytesWritten += header.byteLength;
    this.metrics.segmentsCreated++;
    this.segments.push(new ChainSegment(firstOffset));
    this.metrics.segments = this.segments.length;
    this.active = file;
  }

  private async flush(): Promise<void> {
    if (this.chunkBytes === 0) return;
    const bytes = concatBytes(this.chunks, this.chunkBytes);
    const records = this.chunkRecords;
    this.chunks = [];
    this.chunkBytes = 0;
    this.chunkRecords = [];
    const segment = this.activeSegment();
    await this.activeFile().append(bytes);
    this.unsynced = true;
    this.metrics.bytesWritten += bytes.byteLength;
    let position = segment.sizeBytes;
    for (const record of records) {
      segment.recordWritten(position, record.frameBytes, record.appendedAtMs);
      position += record.frameBytes;
    }
  }

  /**
   * Drops records from `fromOffset` on: later segments are deleted newest first (a crash leaves a
   * prefix of the log), then the segment holding it is cut and synced.
   */
  private async truncate(fromOffset: number): Promise<void> {
    this.metrics.truncations++;
    let reopen = false;
    while (this.segments.length > 1 && this.activeSegment().firstOffset >= fromOffset) {
      if (!reopen) await this.activeFile().close();
      reopen = true;
      await this.removeSegment(this.segments.pop()!);
    }
    const segment = this.activeSegment();
    if (reopen)
      this.active = await this.directory.disk.open(this.pathOf(segment), 'append', this.segmentOpenOptions());
    const cut = await this.withFile(segment, (file) => locateRecord(file, segment, fromOffset));
    if (cut.position < segment.sizeBytes) {
      await this.activeFile().truncate(cut.position);
      segment.truncate(cut);
    }
    this.unsynced = false;
    await this.directory.datasync(this.activeFile());
  }

  /**
   * Drops every segment, oldest first (a crash part way leaves a suffix of the old log, as
   * retention would), then starts an empty one at `offset`. The old segments stay listed until
   * the new one exists, so the writer always has a first segment.
   */
  private async restart(offset: number): Promise<void> {
    this.metrics.truncations++;
    await this.activeFile().close();
    this.active = undefined;
    const old = [...this.segments];
    for (const segment of old) await this.removeSegment(segment);
    await this.createSegment(offset);
    this.unsynced = false;
    this.segments.splice(0, old.length);
    this.metrics.segments = this.segments.length;
  }

  /**
   * Drops whole segments from the front (never the active one, one a queued truncation cuts
   * into, nor one holding a record at or after the write's `keepFrom`): while the policy says
   * so, or while every record of the segment is below the write's `trimBelow`.
   */
  private async retain(write: Extract<QueuedWrite, { kind: 'retention' }>): Promise<void> {
    const { maxBytes, maxAgeMs } = write.retention;
    const floor = Math.min(this.pendingTruncationFloor(), write.keepFrom);
    let totalBytes = 0;
    for (const segment of this.segments) totalBytes += segment.sizeBytes;
    let drop = 0;
    while (drop < this.segments.length - 1) {
      const segment = this.segments[drop]!;
      if (segment.nextOffset > floor) break;
      const overSize = maxBytes !== undefined && totalBytes > maxBytes;
      const overAge = maxAgeMs !== undefined && segment.newestAppendedAtMs < write.nowMs - maxAgeMs;
      const belowTrim = segment.nextOffset <= write.trimBelow;
      if (!overSize && !overAge && !belowTrim) break;
      totalBytes -= segment.sizeBytes;
      drop++;
    }
    if (drop > 0) {
      this.settings.onStartMoved(this.segments[drop]!.firstOffset);
      for (const segment of this.segments.splice(0, drop)) await this.removeSegment(segment);
      this.metrics.segmentsCompacted += drop;
    }
    write.settle.resolve();
  }

  private async removeSegment(segment: ChainSegment): Promise<void> {
    await this.readFiles.forget(segment);
    await this.directory.remove(segmentFileName(segment.firstOffset));
    await this.directory.fsync();
    this.metrics.segments = this.segments.length;
  }

  private acquireRead(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.executedSequence >= this.lastSequence) {
      this.readers++;
      return Promise.resolve();
    }
    if (this.readGrants.length >= MAX_CHAIN_PENDING_OPERATIONS) {
      return Promise.reject(new ChainOverloadedError(this.settings.name, 'too many reads waiting'));
    }
    return new Promise((resolve, reject) => {
      this.readGrants.push({ sequence: this.lastSequence, resolve, reject });
    });
  }

  private releaseRead(): void {
    this.readers--;
    if (this.readers === 0) for (const waiter of this.readersClearWaiters.splice(0)) waiter();
  }

  private whenReadersClear(): Promise<void> {
    if (this.readers === 0) return Promise.resolve();
    return new Promise((resolve) => this.readersClearWaiters.push(resolve));
  }

  private armIntervalTimer(intervalMs: number): void {
    this.timer = this.settings.clock.setTimer(intervalMs, () => {
      this.requestSync();
      this.armIntervalTimer(intervalMs);
    });
  }

  /** A failed write or sync: nothing later can be trusted, so every waiting and later call fails. */
  private fail(cause: unknown): void {
    const failure = new ChainLogFailedError(this.settings.name, cause);
    this.failure = failure;
    if (this.timer !== undefined) this.settings.clock.clearTimer(this.timer);
    this.timer = undefined;
    for (const waiter of this.durableWaiters.splice(0)) waiter.reject(failure);
    for (const waiter of this.readGrants.splice(0)) waiter.reject(failure);
    for (const write of [...this.inFlight, ...this.queue]) {
      if (write.kind === 'retention') write.settle.reject(failure);
    }
    this.inFlight = [];
    this.queue = [];
  }

  private segmentOpenOptions(): OpenOptions {
    return this.settings.sync.mode === 'interval' ? INTERVAL_SEGMENT_OPEN_OPTIONS : SEGMENT_OPEN_OPTIONS;
  }

  private pathOf(segment: ChainSegment): string {
    return this.directory.pathOf(segmentFileName(segment.firstOffset));
  }

  private activeSegment(): ChainSegment {
    return this.segments.at(-1)!;
  }

  private activeFile(): DiskFile {
    assert(this.active !== undefined, 'chain log has no active segment file');
    return this.active;
  }
}

/** Where a write cuts the log (records from there on are gone once it is carried out), if it does. */
function cutOffset(write: ChainWrite): number | undefined {
  if (write.kind === 'truncate') return write.fromOffset;
  if (write.kind === 'restart') return write.offset;
  return undefined;
}
