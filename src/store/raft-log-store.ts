import * as path from 'node:path';
import { assert, type Disk, isMeshError, type MeshError, outgoingBytes } from '../lib/index.js';
import { StoreClosedError, StoreFailedError, StoreOverloadedError } from './errors.js';
import { parseSnapshotFileName, snapshotFileName } from './file-names.js';
import { MAX_BATCH_BYTES, MAX_PENDING_OPERATIONS, MAX_PENDING_SNAPSHOT_SAVES } from './limits.js';
import { createStoreMetrics, type StoreMetrics } from './metrics.js';
import { type RaftLogStoreOptions, type ResolvedStoreOptions, resolveStoreOptions } from './options.js';
import {
  encodeTruncateSuffix,
  entryRecordBytes,
  HARD_STATE_RECORD_BYTES,
  writeEntryRecord,
  writeHardStateRecord,
} from './records.js';
import { type RecoveredLayout, recoverStore } from './recovery.js';
import { SegmentWriter, type WriterOperation } from './segment-writer.js';
import { SnapshotDataReader, snapshotFileParts } from './snapshot-file.js';
import { SnapshotReception } from './snapshot-reception.js';
import { StoreDirectory } from './store-io.js';
import type { RecoveredState, SnapshotToSave, StoredEntry, StoredHardState } from './types.js';

interface Settle {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type PendingOperation = WriterOperation & { readonly settle: Settle };

/** The rest of a write `appendNow` started (its sync, say), which the drain waits for first. */
interface InFlightWrite {
  readonly rest: Promise<void>;
  readonly settle: Settle;
}

function writeOperation(
  truncateFrom: number | undefined,
  records: readonly Uint8Array[],
  entryCount: number,
  hardState: StoredHardState | undefined,
): WriterOperation {
  let bytes = 0;
  for (const record of records) bytes += record.byteLength;
  return { kind: 'write', truncateFrom, records, entryCount, hardState, bytes };
}

/** The store together with what it found on disk when it was opened. */
export interface OpenedRaftLogStore {
  readonly store: RaftLogStore;
  readonly recovered: RecoveredState;
}

/**
 * Opens (creating if needed) the store in `directoryPath`, recovers it and returns the
 * store with the recovered hard state, snapshot and log tail.
 */
export async function openRaftLogStore(
  disk: Disk,
  directoryPath: string,
  options: RaftLogStoreOptions = {},
): Promise<OpenedRaftLogStore> {
  const resolved = resolveStoreOptions(options);
  const metrics = createStoreMetrics();
  if (!(await disk.exists(directoryPath))) {
    await disk.makeDirectory(directoryPath);
    await disk.fsyncDirectory(path.dirname(directoryPath));
  }
  const directory = new StoreDirectory(disk, directoryPath, resolved.clock, metrics);
  const recovery = await recoverStore(directory, metrics, resolved.logger);
  const store = new RaftLogStore(directory, resolved, metrics, recovery.layout, recovery.state.hardState);
  await store.start(recovery.layout);
  return { store, recovered: recovery.state };
}

/**
 * Durable Raft state: a write-ahead log of entries, hard state and truncation markers in
 * segment files, plus snapshot files. Writes are group-committed: every write waiting
 * while a sync is in flight goes out with the next single sync. The store keeps no copy
 * of the log; the caller holds entries in memory.
 */
export class RaftLogStore {
  private readonly pending: PendingOperation[] = [];
  private writing = false;
  private readonly idleWaiters: (() => void)[] = [];
  private failure: MeshError | undefined;
  private closed = false;

  /** Last index once every queued write is applied; checked synchronously on each call. */
  private queuedLastIndex: number;
  /** Entries at or below this index are covered by a snapshot and may not be rewritten. */
  private floorIndex: number;
  private durableSnapshotIndex: number;
  private snapshotChain: Promise<void> = Promise.resolve();
  private pendingSnapshotSaves = 0;
  /** Snapshot receptions started (each writes a file of its own). */
  private receptions = 0;
  /** Snapshot files open for reading chunks, by index (see `readSnapshotData`). */
  private readonly snapshotReaders = new Map<number, Promise<SnapshotDataReader>>();

  private readonly writer: SegmentWriter;

  /** Use `openRaftLogStore`. */
  constructor(
    private readonly directory: StoreDirectory,
    private readonly options: ResolvedStoreOptions,
    private readonly counters: StoreMetrics,
    layout: RecoveredLayout,
    hardState: StoredHardState,
  ) {
    this.queuedLastIndex = layout.lastIndex;
    this.floorIndex = layout.snapshotIndex;
    this.durableSnapshotIndex = layout.snapshotIndex;
    this.writer = new SegmentWriter(directory, options.segmentSizeBytes, counters, layout, hardState);
  }

  /** @internal Opens the active segment, or starts a fresh log after the snapshot. */
  async start(layout: RecoveredLayout): Promise<void> {
    if (!layout.needsReset) {
      await this.writer.open(layout.activeEndOffset);
      return;
    }
    this.options.logger.warn(
      { snapshotIndex: layout.snapshotIndex },
      'log does not continue the snapshot; starting a new log after it',
    );
    await this.writer.resetLog(layout.snapshotIndex);
    await this.writer.commit();
  }

  /** Counters for the metrics exporter; live, do not modify. */
  get metrics(): Readonly<StoreMetrics> {
    return this.counters;
  }

  /** Index of the last entry once every accepted write is applied. */
  get lastIndex(): number {
    return this.queuedLastIndex;
  }

  /**
   * Appends `entries` (consecutive indexes) and optionally a new hard state; resolves once
   * they are durable. An entry at or below the current last index replaces that index and
   * everything after it, as `truncateSuffix` would, in the same sync.
   */
  append(entries: readonly StoredEntry[], hardState?: StoredHardState): Promise<void> {
    const operation = this.acceptWrite(entries, hardState);
    if (!('kind' in operation)) return Promise.reject(operation.refusal);
    return this.enqueue(operation);
  }

  /**
   * As `append`, but when no write is queued or in progress and the disk can write and sync on
   * this thread, the write starts before this returns: undefined means it is already durable
   * (the caller goes on in this turn, with no promise to wait for), a promise that it is not
   * yet.
   */
  appendNow(entries: readonly StoredEntry[], hardState?: StoredHardState): Promise<void> | undefined {
    const operation = this.acceptWrite(entries, hardState);
    if (!('kind' in operation)) return Promise.reject(operation.refusal);
    if (this.writing || this.pending.length > 0 || !this.writer.canWriteNow(operation)) {
      return this.enqueue(operation);
    }
    let rest: Promise<void> | undefined;
    try {
      rest = this.writer.writeNow(operation);
    } catch (error) {
      return Promise.reject(this.failWith(error));
    }
    if (rest === undefined) return undefined;
    this.writing = true;
    return new Promise<void>((resolve, reject) => {
      void this.drain({ rest, settle: { resolve, reject } });
    });
  }

  /**
   * Encodes an append's records into a write operation and counts it queued, or says why it is
   * refused (nothing was queued then).
   */
  private acceptWrite(
    entries: readonly StoredEntry[],
    hardState: StoredHardState | undefined,
  ): WriterOperation | { readonly refusal: MeshError } {
    const refusal = this.refusal();
    if (refusal !== undefined) return { refusal };
    if (this.pending.length >= MAX_PENDING_OPERATIONS) {
      return { refusal: new StoreOverloadedError(this.pending.length) };
    }
    let truncateFrom: number | undefined;
    const records: Uint8Array[] = [];
    const first = entries[0];
    if (first !== undefined) {
      assert(
        first.index > this.floorIndex && first.index <= this.queuedLastIndex + 1,
        () => `append at index ${first.index} outside ${this.floorIndex + 1}..${this.queuedLastIndex + 1}`,
      );
      if (first.index <= this.queuedLastIndex) {
        truncateFrom = first.index;
        records.push(encodeTruncateSuffix(first.index));
      }
    }
    for (let position = 0; position < entries.length; position++) {
      assert(
        entries[position]!.index === first!.index + position,
        'appended entries must have consecutive indexes',
      );
    }
    try {
      // Every record one after another in one outgoing buffer (written, then dropped), so the
      // segment writer writes them without joining them; it cuts its writes at segment ends,
      // so each record stays a view of its own.
      let blockBytes = hardState === undefined ? 0 : HARD_STATE_RECORD_BYTES;
      for (const entry of entries) blockBytes += entryRecordBytes(entry);
      if (blockBytes > 0) {
        const block = outgoingBytes(blockBytes);
        let offset = 0;
        for (const entry of entries) {
          const end = writeEntryRecord(block, offset, entry);
          records.push(block.subarray(offset, end));
          offset = end;
        }
        if (hardState !== undefined) {
          writeHardStateRecord(block, offset, hardState);
          records.push(block.subarray(offset));
        }
      }
    } catch (error) {
      // An oversized entry is refused as a value; nothing was queued.
      if (isMeshError(error)) return { refusal: error };
      throw error;
    }
    if (first !== undefined) this.queuedLastIndex = first.index + entries.length - 1;
    this.counters.appends++;
    this.counters.appendedEntries += entries.length;
    return writeOperation(truncateFrom, records, entries.length, hardState);
  }

  /**
   * Removes every entry at `fromIndex` and above (a leader overwrote a conflicting tail);
   * resolves once the removal is durable.
   */
  truncateSuffix(fromIndex: number): Promise<void> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    assert(
      Number.isSafeInteger(fromIndex) && fromIndex > this.floorIndex,
      () => `cannot truncate from ${fromIndex}: entries up to ${this.floorIndex} are in a snapshot`,
    );
    if (fromIndex > this.queuedLastIndex) return this.enqueue(writeOperation(undefined, [], 0, undefined));
    this.queuedLastIndex = fromIndex - 1;
    return this.enqueue(writeOperation(fromIndex, [encodeTruncateSuffix(fromIndex)], 0, undefined));
  }

  /**
   * Writes a snapshot file atomically and removes snapshots beyond the retention count.
   * Snapshot writes do not hold up log appends, and are checksummed and written a part at a
   * time off the event loop.
   */
  saveSnapshot(snapshot: SnapshotToSave): Promise<void> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    assert(Number.isSafeInteger(snapshot.index) && snapshot.index >= 1, 'snapshot index must be >= 1');
    if (this.pendingSnapshotSaves >= MAX_PENDING_SNAPSHOT_SAVES) {
      return Promise.reject(new StoreOverloadedError(this.pendingSnapshotSaves));
    }
    this.pendingSnapshotSaves++;
    const saving = this.snapshotChain
      .then(async () => {
        await this.directory.writeFileAtomically(
          snapshotFileName(snapshot.index),
          snapshotFileParts(snapshot),
          true,
        );
        await this.snapshotSaved(snapshot.index);
      })
      .finally(() => {
        this.pendingSnapshotSaves--;
      });
    this.snapshotChain = saving.catch(() => undefined);
    return saving;
  }

  private async snapshotSaved(index: number): Promise<void> {
    this.durableSnapshotIndex = Math.max(this.durableSnapshotIndex, index);
    this.counters.snapshotsSaved++;
    await this.removeOldSnapshots();
  }

  /**
   * Starts the file of a snapshot being received (`SnapshotReception`: its data is written as it
   * arrives); `installReceivedSnapshot` then makes it the saved snapshot, as `saveSnapshot` would.
   */
  receiveSnapshot(snapshot: Omit<SnapshotToSave, 'data'>, dataBytes: number): SnapshotReception {
    const refusal = this.refusal();
    if (refusal !== undefined) throw refusal;
    assert(Number.isSafeInteger(snapshot.index) && snapshot.index >= 1, 'snapshot index must be >= 1');
    this.receptions++;
    return new SnapshotReception(this.directory, snapshot, dataBytes, this.receptions);
  }

  /** Finishes a completely received snapshot's file and makes it the saved snapshot at its index. */
  installReceivedSnapshot(reception: SnapshotReception): Promise<void> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    const saving = this.snapshotChain.then(async () => {
      await reception.finish();
      await this.snapshotSaved(reception.index);
    });
    this.snapshotChain = saving.catch(() => undefined);
    return saving;
  }

  /**
   * `length` bytes of the data of the saved snapshot at `index`, from `offset` on, read from its
   * file (FILE_NOT_FOUND once retention removed it). The node serves snapshots to followers this
   * way instead of keeping one in memory. The file stays open for the next chunks until
   * retention removes it or the store closes (at most `snapshotsRetained` files are open).
   */
  async readSnapshotData(index: number, offset: number, length: number): Promise<Uint8Array> {
    const refusal = this.refusal();
    if (refusal !== undefined) throw refusal;
    let reader = this.snapshotReaders.get(index);
    if (reader === undefined) {
      reader = SnapshotDataReader.open(this.directory.disk, this.directory.pathOf(snapshotFileName(index)));
      this.snapshotReaders.set(index, reader);
      // A file that cannot be opened (removed, say) is not remembered.
      reader.catch(() => {
        if (this.snapshotReaders.get(index) === reader) this.snapshotReaders.delete(index);
      });
    }
    return (await reader).read(offset, length);
  }

  /** Closes the reader of the snapshot file at `index`, if one is open. */
  private async closeSnapshotReader(index: number): Promise<void> {
    const reader = this.snapshotReaders.get(index);
    if (reader === undefined) return;
    this.snapshotReaders.delete(index);
    await reader.then(
      (open) => open.close(),
      () => undefined,
    );
  }

  /**
   * Deletes every segment whose entries are all at or below `throughIndex`. The segment
   * still holding later entries stays. A snapshot at or after `throughIndex` must be saved.
   */
  compact(throughIndex: number): Promise<void> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    assert(
      throughIndex <= this.durableSnapshotIndex,
      () => `compact through ${throughIndex} needs a snapshot there; newest is ${this.durableSnapshotIndex}`,
    );
    assert(throughIndex <= this.queuedLastIndex, 'compact beyond the end of the log; use resetToSnapshot');
    this.floorIndex = Math.max(this.floorIndex, throughIndex);
    return this.enqueue({ kind: 'compact', throughIndex, bytes: 0 });
  }

  /**
   * Discards the whole log and continues after a saved snapshot at `snapshotIndex` (a
   * follower installed a snapshot its log does not match).
   */
  resetToSnapshot(snapshotIndex: number): Promise<void> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    assert(
      snapshotIndex <= this.durableSnapshotIndex && snapshotIndex >= this.floorIndex,
      () => `reset to ${snapshotIndex} needs a saved snapshot there; newest is ${this.durableSnapshotIndex}`,
    );
    this.floorIndex = snapshotIndex;
    this.queuedLastIndex = snapshotIndex;
    return this.enqueue({ kind: 'reset', snapshotIndex, bytes: 0 });
  }

  /** Waits for queued writes, then closes the files. Later calls fail with STORE_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.whenIdle();
    await this.snapshotChain;
    for (const index of [...this.snapshotReaders.keys()]) await this.closeSnapshotReader(index);
    // A failed store leaves its files as they are: recovery reads the zeros as the clean end.
    await this.writer.close(this.failure === undefined);
  }

  private refusal(): MeshError | undefined {
    if (this.failure !== undefined) return this.failure;
    if (this.closed) return new StoreClosedError();
    return undefined;
  }

  private enqueue(operation: WriterOperation): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ...operation, settle: { resolve, reject } });
      if (!this.writing) {
        this.writing = true;
        void this.drain();
      }
    });
  }

  private whenIdle(): Promise<void> {
    if (!this.writing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * The group-commit loop: take everything waiting, write it, sync once, settle it all. It
   * starts by waiting for the rest of a write `appendNow` began (`inFlight`), if any.
   */
  private async drain(inFlight?: InFlightWrite): Promise<void> {
    try {
      if (inFlight !== undefined) {
        try {
          await inFlight.rest;
          inFlight.settle.resolve();
        } catch (error) {
          inFlight.settle.reject(this.failWith(error));
        }
      }
      while (this.pending.length > 0 && this.failure === undefined) {
        const batch = this.takeBatch();
        try {
          for (const operation of batch) await this.writer.apply(operation);
          await this.writer.commit();
        } catch (error) {
          const failure = this.failWith(error);
          for (const operation of batch) operation.settle.reject(failure);
          break;
        }
        for (const operation of batch) operation.settle.resolve();
      }
      if (this.failure !== undefined) {
        for (const operation of this.pending.splice(0)) operation.settle.reject(this.failure);
      }
    } finally {
      this.writing = false;
      for (const waiter of this.idleWaiters.splice(0)) waiter();
    }
  }

  /** A write failed: the store refuses every later one with the error this returns. */
  private failWith(error: unknown): StoreFailedError {
    const failure = new StoreFailedError(error);
    this.failure = failure;
    this.options.logger.error({ err: error }, 'store write failed; refusing further writes');
    return failure;
  }

  private takeBatch(): PendingOperation[] {
    let bytes = 0;
    let count = 0;
    for (const operation of this.pending) {
      if (count > 0 && bytes + operation.bytes > MAX_BATCH_BYTES) break;
      bytes += operation.bytes;
      count++;
    }
    return this.pending.splice(0, count);
  }

  private async removeOldSnapshots(): Promise<void> {
    const indexes = (await this.directory.list())
      .map(parseSnapshotFileName)
      .filter((index): index is number => index !== undefined)
      .sort((a, b) => b - a);
    const surplus = indexes.slice(this.options.snapshotsRetained);
    for (const index of surplus) {
      await this.closeSnapshotReader(index);
      await this.directory.remove(snapshotFileName(index));
    }
    if (surplus.length > 0) await this.directory.fsync();
  }
}
