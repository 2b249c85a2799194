/**
 * One segment file of a chain's log as the writer and readers know it: the offsets it holds, its
 * size, its newest record's time (retention by age) and a sparse index of where records start.
 * The index is kept in memory and rebuilt when the log is opened (opening reads every segment to
 * check its checksums anyway); one entry per `CHAIN_INDEX_INTERVAL_BYTES` costs 16 bytes per
 * 4 KiB of log.
 */
import { assert } from '../lib/index.js';
import { CHAIN_INDEX_INTERVAL_BYTES } from './chain-log-limits.js';
import { CHAIN_SEGMENT_HEADER_BYTES } from './chain-record-codec.js';

export interface SegmentPosition {
  readonly offset: number;
  /** Byte position in the file of the record with `offset`. */
  readonly position: number;
}

export class ChainSegment {
  /** The offset the segment's next record would take. */
  nextOffset: number;
  /** Bytes of the file that hold whole records (written to the OS, maybe not yet synced). */
  sizeBytes = CHAIN_SEGMENT_HEADER_BYTES;
  /** `appendedAtMs` of its newest record (an upper bound after a truncation); -Infinity when empty. */
  newestAppendedAtMs = Number.NEGATIVE_INFINITY;
  private readonly indexedOffsets: number[] = [];
  private readonly indexedPositions: number[] = [];

  constructor(readonly firstOffset: number) {
    this.nextOffset = firstOffset;
  }

  get recordCount(): number {
    return this.nextOffset - this.firstOffset;
  }

  /** Notes a record written at `position` (the next offset, at the end of the file). */
  recordWritten(position: number, frameBytes: number, appendedAtMs: number): void {
    assert(position === this.sizeBytes, `record at byte ${position}, segment ends at ${this.sizeBytes}`);
    const lastIndexed = this.indexedPositions.at(-1);
    if (lastIndexed === undefined || position - lastIndexed >= CHAIN_INDEX_INTERVAL_BYTES) {
      this.indexedOffsets.push(this.nextOffset);
      this.indexedPositions.push(position);
    }
    this.nextOffset++;
    this.sizeBytes = position + frameBytes;
    this.newestAppendedAtMs = Math.max(this.newestAppendedAtMs, appendedAtMs);
  }

  /** The indexed record nearest at or before `offset`: where a scan for `offset` starts. */
  seek(offset: number): SegmentPosition {
    assert(offset >= this.firstOffset && offset <= this.nextOffset, `offset ${offset} not in this segment`);
    let low = 0;
    let high = this.indexedOffsets.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.indexedOffsets[middle]! <= offset) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    if (found === -1) return { offset: this.firstOffset, position: CHAIN_SEGMENT_HEADER_BYTES };
    return { offset: this.indexedOffsets[found]!, position: this.indexedPositions[found]! };
  }

  /** Forgets records from `at.offset` on, which started at byte `at.position`. */
  truncate(at: SegmentPosition): void {
    assert(
      at.offset >= this.firstOffset && at.offset <= this.nextOffset,
      `cut ${at.offset} not in this segment`,
    );
    this.nextOffset = at.offset;
    this.sizeBytes = at.position;
    let keep = this.indexedOffsets.length;
    while (keep > 0 && this.indexedOffsets[keep - 1]! >= at.offset) keep--;
    this.indexedOffsets.length = keep;
    this.indexedPositions.length = keep;
    if (this.recordCount === 0) this.newestAppendedAtMs = Number.NEGATIVE_INFINITY;
  }
}
