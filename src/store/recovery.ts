import { isMeshError, type Logger } from '../lib/index.js';
import { CorruptionError, StoreUnrecoverableError } from './errors.js';
import { parseSegmentFileName, parseSnapshotFileName } from './file-names.js';
import { decodeHardStateFile, HARD_STATE_FILE_NAME, newerHardState } from './hard-state-file.js';
import type { StoreMetrics } from './metrics.js';
import { RecordType, type scanSegment } from './record-frame.js';
import { RecordDecoder } from './records.js';
import { readSegment } from './segment-reading.js';
import { decodeSnapshot } from './snapshot-file.js';
import type { StoreDirectory } from './store-io.js';
import {
  EMPTY_HARD_STATE,
  type RecoveredState,
  type SkippedSnapshot,
  type StoredEntry,
  type StoredHardState,
  type StoredSnapshot,
} from './types.js';

/** What the writer needs to carry on from where the files left off. */
export interface RecoveredLayout {
  /** First indexes of the segment files kept, ascending. */
  readonly segmentFirstIndexes: number[];
  /**
   * End of the last valid record of the newest segment kept (0 without one): the writer carries
   * on there, not at the file's size, which in a preallocated segment runs on past it in zeros.
   */
  readonly activeEndOffset: number;
  /** Last live entry index in the log (0 for an empty log from index 1). */
  readonly lastIndex: number;
  /** Index of the newest valid snapshot, 0 without one. */
  readonly snapshotIndex: number;
  /**
   * The log cannot continue after the snapshot (it ends before it, or its entry at the
   * snapshot index has another term), so the writer must discard it and restart at
   * snapshotIndex + 1.
   */
  readonly needsReset: boolean;
}

export interface Recovery {
  readonly state: RecoveredState;
  readonly layout: RecoveredLayout;
}

/**
 * Reads a store directory: newest valid snapshot, hard state, and every segment in index
 * order. A torn final record of the last segment is cut off (the file is truncated and
 * synced); zeros after the last record of the last segment are its preallocated, unused
 * rest and are left alone; any other damage stops with a typed error.
 */
export async function recoverStore(
  directory: StoreDirectory,
  metrics: StoreMetrics,
  logger: Logger,
): Promise<Recovery> {
  const names = await directory.list();
  await directory.removeTemporaryFiles(names);

  const skippedSnapshots: SkippedSnapshot[] = [];
  const snapshot = await readNewestValidSnapshot(directory, names, skippedSnapshots);
  for (const skipped of skippedSnapshots) {
    metrics.snapshotsSkipped++;
    logger.warn({ file: skipped.file, reason: skipped.reason }, 'skipping invalid snapshot');
  }
  const snapshotIndex = snapshot?.index ?? 0;

  let hardState: StoredHardState = EMPTY_HARD_STATE;
  if (names.includes(HARD_STATE_FILE_NAME)) {
    const bytes = await directory.disk.readFile(directory.pathOf(HARD_STATE_FILE_NAME));
    hardState = decodeHardStateFile(bytes, directory.pathOf(HARD_STATE_FILE_NAME));
  }

  const segmentFirstIndexes = names
    .map(parseSegmentFileName)
    .filter((index): index is number => index !== undefined)
    .sort((a, b) => a - b);

  const replay = new LogReplay(snapshotIndex);
  let tornBytes = 0;
  const kept: number[] = [];
  let activeEndOffset = 0;
  for (let position = 0; position < segmentFirstIndexes.length; position++) {
    const firstIndex = segmentFirstIndexes[position]!;
    const isLast = position === segmentFirstIndexes.length - 1;
    const name = segmentFileNameOf(names, firstIndex);
    const filePath = directory.pathOf(name);
    const { scan } = await readSegment(directory.disk, filePath, isLast);
    // Zeros alone after the last record are the unused rest of a preallocated segment (or a
    // size that reached the disk before its data): the clean end, where the writer carries on.
    if (scan.tornReason !== undefined && !scan.zeroTail) {
      // A preallocated segment's unused rest is not part of the tear.
      const cutBytes = scan.tornEndOffset - scan.validEndOffset;
      tornBytes += cutBytes;
      logger.warn(
        { file: filePath, offset: scan.validEndOffset, bytes: cutBytes, reason: scan.tornReason },
        'truncating torn write at the end of the log',
      );
      await directory.truncateFile(filePath, scan.validEndOffset);
    }
    if (scan.records.length === 0) {
      // Only the newest segment can be empty: a crash while it was being started.
      if (!isLast) throw new CorruptionError(filePath, 0, 'sealed segment holds no records');
      await directory.remove(name);
      await directory.fsync();
      continue;
    }
    const walHardState = replay.segment(filePath, firstIndex, scan.records);
    if (walHardState !== undefined) hardState = newerHardState(hardState, walHardState);
    kept.push(firstIndex);
    activeEndOffset = scan.validEndOffset;
  }
  metrics.recoveredTornBytes += tornBytes;
  metrics.segments = kept.length;

  const outcome = replay.finish(snapshot, kept.length > 0);
  return {
    state: { hardState, snapshot, entries: outcome.entries, skippedSnapshots, tornBytes },
    layout: {
      segmentFirstIndexes: kept,
      activeEndOffset,
      lastIndex: outcome.lastIndex,
      snapshotIndex,
      needsReset: outcome.needsReset,
    },
  };
}

/** Replays segment records into the live log: entries in order, truncation markers applied. */
class LogReplay {
  private entries: StoredEntry[] = [];
  /** First index of the run of segments being replayed. */
  private startIndex: number | undefined;
  private nextIndex = 0;
  private lastHardState: StoredHardState | undefined;

  constructor(private readonly snapshotIndex: number) {}

  /** Returns the newest hard state seen so far. */
  segment(
    filePath: string,
    firstIndex: number,
    records: ReturnType<typeof scanSegment>['records'],
  ): StoredHardState | undefined {
    const decoder = new RecordDecoder(filePath);
    const [first, ...rest] = records;
    if (first === undefined || first.type !== RecordType.segmentHeader) {
      throw new CorruptionError(filePath, 0, 'segment does not start with a segment header');
    }
    const header = decoder.segmentHeader(first);
    if (header.firstIndex !== firstIndex) {
      decoder.fail(first, `header says first index ${header.firstIndex} but the name says ${firstIndex}`);
    }
    if (this.startIndex === undefined) {
      this.startIndex = firstIndex;
      this.nextIndex = firstIndex;
    } else if (firstIndex !== this.nextIndex) {
      // Compaction may leave older segments behind out of order; they matter only if the
      // snapshot does not cover the missing range.
      if (firstIndex > this.snapshotIndex + 1) {
        throw new StoreUnrecoverableError(
          `segment ${filePath} starts at index ${firstIndex} but the log before it ends at ${this.nextIndex - 1}`,
          { file: filePath, firstIndex, expectedIndex: this.nextIndex },
        );
      }
      this.entries = [];
      this.startIndex = firstIndex;
      this.nextIndex = firstIndex;
    }
    for (const record of rest) {
      switch (record.type) {
        case RecordType.entry: {
          const entry = decoder.entry(record);
          if (entry.index !== this.nextIndex) {
            decoder.fail(record, `entry index ${entry.index} where ${this.nextIndex} was expected`);
          }
          this.entries.push(entry);
          this.nextIndex++;
          break;
        }
        case RecordType.hardState:
          this.lastHardState = decoder.hardState(record);
          break;
        case RecordType.truncateSuffix: {
          const { fromIndex } = decoder.truncateSuffix(record);
          if (fromIndex < firstIndex || fromIndex > this.nextIndex) {
            decoder.fail(record, `truncation from ${fromIndex} outside ${firstIndex}..${this.nextIndex}`);
          }
          const keep = fromIndex - (this.entries[0]?.index ?? fromIndex);
          this.entries.length = Math.max(0, keep);
          this.nextIndex = fromIndex;
          break;
        }
        case RecordType.segmentHeader:
          decoder.fail(record, 'second segment header inside a segment');
      }
    }
    return this.lastHardState;
  }

  finish(
    snapshot: StoredSnapshot | undefined,
    hasSegments: boolean,
  ): { entries: StoredEntry[]; lastIndex: number; needsReset: boolean } {
    const snapshotIndex = snapshot?.index ?? 0;
    if (!hasSegments || this.startIndex === undefined) {
      return { entries: [], lastIndex: snapshotIndex, needsReset: false };
    }
    const lastIndex = this.nextIndex - 1;
    if (this.startIndex > snapshotIndex + 1) {
      throw new StoreUnrecoverableError(
        snapshot === undefined
          ? `log starts at index ${this.startIndex} and no valid snapshot covers the entries before it`
          : `log starts at index ${this.startIndex} but the newest valid snapshot ends at ${snapshotIndex}`,
        { logStartIndex: this.startIndex, snapshotIndex },
      );
    }
    if (snapshot === undefined) return { entries: this.entries, lastIndex, needsReset: false };
    if (lastIndex < snapshotIndex) return { entries: [], lastIndex: snapshotIndex, needsReset: true };
    const offset = snapshotIndex - this.startIndex;
    const atSnapshot = offset >= 0 ? this.entries[offset] : undefined;
    if (atSnapshot !== undefined && atSnapshot.term !== snapshot.term) {
      return { entries: [], lastIndex: snapshotIndex, needsReset: true };
    }
    return { entries: this.entries.slice(Math.max(0, offset + 1)), lastIndex, needsReset: false };
  }
}

function segmentFileNameOf(names: readonly string[], firstIndex: number): string {
  const name = names.find((candidate) => parseSegmentFileName(candidate) === firstIndex);
  if (name === undefined) throw new StoreUnrecoverableError(`segment for index ${firstIndex} vanished`);
  return name;
}

/** Newest snapshot that decodes cleanly; every one passed over is added to `skipped`. */
async function readNewestValidSnapshot(
  directory: StoreDirectory,
  names: readonly string[],
  skipped: SkippedSnapshot[],
): Promise<StoredSnapshot | undefined> {
  const candidates = names
    .map((name) => ({ name, index: parseSnapshotFileName(name) }))
    .filter((candidate): candidate is { name: string; index: number } => candidate.index !== undefined)
    .sort((a, b) => b.index - a.index);
  for (const candidate of candidates) {
    const filePath = directory.pathOf(candidate.name);
    let bytes: Uint8Array;
    try {
      bytes = await directory.disk.readFile(filePath);
    } catch (error) {
      if (!isMeshError(error)) throw error;
      skipped.push({ file: filePath, reason: error.message });
      continue;
    }
    const decoded = decodeSnapshot(bytes, candidate.index);
    if (decoded.ok) return decoded.snapshot;
    skipped.push({ file: filePath, reason: decoded.reason });
  }
  return undefined;
}
