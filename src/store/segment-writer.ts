import { assert, type DiskFile } from '../lib/index.js';
import { concatBytes } from './bytes.js';
import { SegmentPreallocationError } from './errors.js';
import { segmentFileName } from './file-names.js';
import { encodeHardStateFile, HARD_STATE_FILE_NAME } from './hard-state-file.js';
import type { StoreMetrics } from './metrics.js';
import { encodeHardState, encodeSegmentHeader } from './records.js';
import type { RecoveredLayout } from './recovery.js';
import type { StoreDirectory } from './store-io.js';
import type { StoredHardState } from './types.js';

/** One queued change to the log, already encoded. */
export type WriterOperation =
  | {
      readonly kind: 'write';
      /** Entries from this index on are removed before `records` are written. */
      readonly truncateFrom: number | undefined;
      /** The truncate marker (if any), then one record per entry, then the hard state (if any). */
      readonly records: readonly Uint8Array[];
      readonly entryCount: number;
      readonly hardState: StoredHardState | undefined;
      readonly bytes: number;
    }
  | { readonly kind: 'compact'; readonly throughIndex: number; readonly bytes: 0 }
  | { readonly kind: 'reset'; readonly snapshotIndex: number; readonly bytes: 0 };

export type WriteOperation = Extract<WriterOperation, { kind: 'write' }>;

interface ActiveSegment {
  readonly file: DiskFile;
  readonly firstIndex: number;
  /** End of the records written: where the next ones go (the file runs on in zeros). */
  sizeBytes: number;
}

/**
 * Owns the segment files: appends records to the active segment, rolls over, applies
 * truncations, compaction and resets. Records are buffered by `apply` and written and
 * synced by `commit`, so one commit covers a whole group of operations. Used by one
 * caller at a time (the store's drain loop).
 *
 * The active segment's file is sized to the segment size up front (sparse, through
 * `truncate`), and records are written at the writer's own end offset: an fdatasync after a
 * write that extends a file must also commit its new size to the file system's journal,
 * which on ext4 took about a third of a 330-byte write's sync (etcd preallocates its WAL for
 * the same reason). Recovery takes the zeros after the last record for the clean end. A
 * segment sealed at roll-over or closed cleanly is cut back to its records, so only the
 * active segment ever ends in zeros.
 */
export class SegmentWriter {
  private readonly segmentFirstIndexes: number[];
  private active: ActiveSegment | undefined;
  private lastIndex: number;
  private writtenHardState: StoredHardState;
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;
  private unsynced = false;

  constructor(
    private readonly directory: StoreDirectory,
    private readonly segmentSizeBytes: number,
    private readonly metrics: StoreMetrics,
    layout: RecoveredLayout,
    hardState: StoredHardState,
  ) {
    this.lastIndex = layout.lastIndex;
    this.segmentFirstIndexes = [...layout.segmentFirstIndexes];
    this.writtenHardState = hardState;
  }

  /**
   * Opens the newest segment for appending at the end of its records (`activeEndOffset`), or
   * starts the first one after `lastIndex`.
   */
  async open(activeEndOffset: number): Promise<void> {
    const lastFirstIndex = this.segmentFirstIndexes.at(-1);
    if (lastFirstIndex === undefined) {
      await this.startSegment(this.lastIndex + 1);
      return;
    }
    await this.reopenSegment(lastFirstIndex, activeEndOffset);
  }

  /**
   * Makes the existing segment at `firstIndex`, whose records end at `endOffset` (undefined: a
   * sealed segment, cut to its records, so at its size), the active one, sized to the segment
   * size again (a segment closed cleanly was cut to its records). The new size needs no sync of
   * its own: zeros after the records read as the clean end.
   */
  private async reopenSegment(firstIndex: number, endOffset: number | undefined): Promise<void> {
    const file = await this.directory.disk.open(this.directory.pathOf(segmentFileName(firstIndex)), 'append');
    const size = await file.size();
    this.active = { file, firstIndex, sizeBytes: endOffset ?? size };
    if (size < this.segmentSizeBytes) await this.preallocate(file);
  }

  /** Sizes `file` to the segment size; a full disk fails with `SegmentPreallocationError`. */
  private async preallocate(file: DiskFile): Promise<void> {
    try {
      await file.truncate(this.segmentSizeBytes);
    } catch (error) {
      throw new SegmentPreallocationError(file.path, this.segmentSizeBytes, error);
    }
  }

  /** Writes everything buffered by `apply` and makes it durable with one fdatasync. */
  async commit(): Promise<void> {
    await this.flushChunks();
    await this.syncActive();
  }

  /**
   * Closes the active segment; with `seal` (a healthy store) first cuts it back to its records
   * and syncs that, so a closed data directory holds no preallocated zeros.
   */
  async close(seal: boolean): Promise<void> {
    if (seal && this.active !== undefined) {
      await this.flushChunks();
      await this.sealActive();
    }
    await this.closeActive();
  }

  /** Applies one queued operation; its records may still be buffered until `commit`. */
  async apply(operation: WriterOperation): Promise<void> {
    switch (operation.kind) {
      case 'write':
        await this.applyWrite(operation);
        return;
      case 'compact':
        await this.applyCompact(operation.throughIndex);
        return;
      case 'reset':
        await this.resetLog(operation.snapshotIndex);
        return;
    }
  }

  /**
   * Whether `writeNow` may take `operation`: a write that fits in the active segment (no
   * roll-over, no cut in an older segment), nothing buffered, and a disk that can write on this
   * thread.
   */
  canWriteNow(operation: WriterOperation): operation is WriteOperation {
    return (
      operation.kind === 'write' &&
      this.chunkBytes === 0 &&
      this.active?.file.writeAtNow !== undefined &&
      this.fitsInActive(operation)
    );
  }

  /**
   * Writes and syncs `operation` (one `canWriteNow` took) before returning where the disk can:
   * undefined once durable, else the promise of the rest (a write the disk would not make on
   * this thread goes as `commit` writes, and a sync may still run when its wait ran out).
   */
  writeNow(operation: WriteOperation): Promise<void> | undefined {
    this.bufferWrite(operation);
    const active = this.activeSegment();
    const bytes = this.takeChunks();
    if (active.file.writeAtNow?.(bytes, active.sizeBytes) !== true) {
      this.push(bytes);
      return this.commit();
    }
    this.wrote(active, bytes.byteLength);
    return this.syncActiveNow();
  }

  private async applyWrite(operation: WriteOperation): Promise<void> {
    if (this.fitsInActive(operation)) {
      this.bufferWrite(operation);
      return;
    }
    let recordPosition = 0;
    if (operation.truncateFrom !== undefined) {
      await this.applyTruncate(operation.truncateFrom, operation.records[0]!);
      recordPosition = 1;
    }
    for (let entry = 0; entry < operation.entryCount; entry++) {
      const record = operation.records[recordPosition++]!;
      await this.ensureRoomFor(record.byteLength);
      this.pushEntry(record);
    }
    this.pushHardState(operation, recordPosition);
  }

  /** Whether all of `operation` goes into the active segment, its cut (if any) too. */
  private fitsInActive(operation: WriteOperation): boolean {
    const active = this.activeSegment();
    if (operation.truncateFrom !== undefined && operation.truncateFrom < active.firstIndex) return false;
    return active.sizeBytes + this.chunkBytes + operation.bytes <= this.segmentSizeBytes;
  }

  /** Buffers a write that fits in the active segment (`fitsInActive`). */
  private bufferWrite(operation: WriteOperation): void {
    let recordPosition = 0;
    if (operation.truncateFrom !== undefined) {
      this.markCut(operation.truncateFrom, operation.records[0]!);
      recordPosition = 1;
    }
    for (let entry = 0; entry < operation.entryCount; entry++)
      this.pushEntry(operation.records[recordPosition++]!);
    this.pushHardState(operation, recordPosition);
  }

  private pushEntry(record: Uint8Array): void {
    this.push(record);
    this.lastIndex++;
  }

  /** The hard state's record, at `recordPosition` of `operation`'s records, if it has one. */
  private pushHardState(operation: WriteOperation, recordPosition: number): void {
    if (operation.hardState === undefined) return;
    this.push(operation.records[recordPosition]!);
    this.writtenHardState = operation.hardState;
  }

  private async applyTruncate(fromIndex: number, marker: Uint8Array): Promise<void> {
    const active = this.activeSegment();
    if (fromIndex < active.firstIndex) {
      // The conflicting tail spans sealed segments: drop the later segments newest first
      // (so a crash leaves a prefix of the log), then mark the cut in the segment holding it.
      await this.flushChunks();
      await this.syncActive();
      await this.checkpointHardState();
      await this.closeActive();
      let keep = this.segmentFirstIndexes.length;
      while (keep > 1 && this.segmentFirstIndexes[keep - 1]! > fromIndex) {
        keep--;
        await this.removeSegment(this.segmentFirstIndexes[keep]!);
        await this.directory.fsync();
      }
      this.segmentFirstIndexes.length = keep;
      const firstIndex = this.segmentFirstIndexes[keep - 1]!;
      assert(firstIndex <= fromIndex, `no segment holds index ${fromIndex}`);
      await this.reopenSegment(firstIndex, undefined);
    }
    this.markCut(fromIndex, marker);
  }

  /** Buffers the marker that removes the entries from `fromIndex` on, in the active segment. */
  private markCut(fromIndex: number, marker: Uint8Array): void {
    this.metrics.truncations++;
    this.push(marker);
    this.lastIndex = fromIndex - 1;
  }

  private async applyCompact(throughIndex: number): Promise<void> {
    let removed = 0;
    // A segment is wholly below the cut when the next one starts at or before throughIndex + 1;
    // the newest (active) segment is never removed.
    while (this.segmentFirstIndexes.length > 1 && this.segmentFirstIndexes[1]! <= throughIndex + 1) {
      await this.removeSegment(this.segmentFirstIndexes.shift()!);
      removed++;
    }
    if (removed > 0) {
      await this.directory.fsync();
      this.metrics.segmentsCompacted += removed;
    }
  }

  /** Discards every segment and starts a new log after the snapshot at `snapshotIndex`. */
  async resetLog(snapshotIndex: number): Promise<void> {
    await this.flushChunks();
    await this.syncActive();
    await this.checkpointHardState();
    await this.closeActive();
    while (this.segmentFirstIndexes.length > 0) {
      await this.removeSegment(this.segmentFirstIndexes.pop()!);
      await this.directory.fsync();
    }
    await this.startSegment(snapshotIndex + 1);
    this.lastIndex = snapshotIndex;
  }

  private async ensureRoomFor(recordBytes: number): Promise<void> {
    const active = this.activeSegment();
    const holdsAnEntry = this.lastIndex >= active.firstIndex;
    if (holdsAnEntry && active.sizeBytes + this.chunkBytes + recordBytes > this.segmentSizeBytes) {
      await this.flushChunks();
      // Cut and durable before the next segment exists, so only the newest ends in zeros.
      await this.sealActive();
      await this.closeActive();
      await this.startSegment(this.lastIndex + 1);
    }
  }

  /**
   * Creates a segment starting with its header and the current hard state, durable before
   * anything else happens, so the newest segment always carries the newest hard state and
   * older segments can be deleted freely.
   */
  private async startSegment(firstIndex: number): Promise<void> {
    const file = await this.directory.disk.open(this.directory.pathOf(segmentFileName(firstIndex)), 'create');
    const opening = [encodeSegmentHeader(firstIndex), encodeHardState(this.writtenHardState)];
    const bytes = opening[0]!.byteLength + opening[1]!.byteLength;
    try {
      await this.preallocate(file);
    } catch (error) {
      // Left empty, the file is removed by recovery (a segment being started); the writes
      // that needed it are refused, and every acknowledged one is in the segments before it.
      await file.close();
      throw error;
    }
    await file.writeAt(concatBytes(opening, bytes), 0);
    // One sync makes the size and the opening records durable together.
    await this.directory.datasync(file);
    await this.directory.fsync();
    this.metrics.bytesWritten += bytes;
    this.metrics.segmentsCreated++;
    this.segmentFirstIndexes.push(firstIndex);
    this.metrics.segments = this.segmentFirstIndexes.length;
    this.active = { file, firstIndex, sizeBytes: bytes };
  }

  private async removeSegment(firstIndex: number): Promise<void> {
    await this.directory.remove(segmentFileName(firstIndex));
    this.metrics.segments = Math.max(0, this.metrics.segments - 1);
  }

  private async checkpointHardState(): Promise<void> {
    await this.directory.writeFileAtomically(HARD_STATE_FILE_NAME, [
      encodeHardStateFile(this.writtenHardState),
    ]);
  }

  private push(record: Uint8Array): void {
    this.chunks.push(record);
    this.chunkBytes += record.byteLength;
  }

  private async flushChunks(): Promise<void> {
    if (this.chunkBytes === 0) return;
    const active = this.activeSegment();
    const bytes = this.takeChunks();
    await active.file.writeAt(bytes, active.sizeBytes);
    this.wrote(active, bytes.byteLength);
  }

  /** The buffered records as one write, leaving the buffer empty. */
  private takeChunks(): Uint8Array {
    const bytes = concatBytes(this.chunks, this.chunkBytes);
    this.chunks = [];
    this.chunkBytes = 0;
    return bytes;
  }

  /** Counts `bytes` written at the end of the active segment's records. */
  private wrote(active: ActiveSegment, bytes: number): void {
    active.sizeBytes += bytes;
    this.metrics.bytesWritten += bytes;
    this.unsynced = true;
  }

  /** Cuts the active segment back to its records and makes that (and every write) durable. */
  private async sealActive(): Promise<void> {
    const active = this.activeSegment();
    await active.file.truncate(active.sizeBytes);
    this.unsynced = true;
    await this.syncActive();
  }

  private async syncActive(): Promise<void> {
    if (!this.unsynced) return;
    await this.directory.datasync(this.activeSegment().file);
    this.unsynced = false;
  }

  /**
   * `syncActive` for a write made on the spot (`writeNow`): undefined when every write is durable
   * on return (`StoreDirectory.datasyncNow`).
   */
  private syncActiveNow(): Promise<void> | undefined {
    if (!this.unsynced) return undefined;
    const syncing = this.directory.datasyncNow(this.activeSegment().file);
    if (syncing === undefined) {
      this.unsynced = false;
      return undefined;
    }
    return syncing.then(() => {
      this.unsynced = false;
    });
  }

  private async closeActive(): Promise<void> {
    const active = this.active;
    this.active = undefined;
    if (active !== undefined) await active.file.close();
  }

  private activeSegment(): ActiveSegment {
    assert(this.active !== undefined, 'store has no active segment');
    return this.active;
  }
}
