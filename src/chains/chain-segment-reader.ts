/**
 * Reading records back from a chain's segment files: from the sparse index's nearest entry, a
 * chunk at a time, checking every checksum on the way (a damaged record is never returned).
 */
import type { DiskFile } from '../lib/index.js';
import { frameAt, RECORD_HEADER_BYTES } from '../store/index.js';
import {
  CHAIN_INDEX_INTERVAL_BYTES,
  CHAIN_READ_CHUNK_BYTES,
  MAX_CHAIN_READ_BYTES,
} from './chain-log-limits.js';
import {
  CHAIN_ENTRY_FIXED_BYTES,
  CHAIN_FRAME_FORMAT,
  type ChainFramedRecord,
  ChainRecordDecoder,
  type ChainRecordType,
} from './chain-record-codec.js';
import type { ChainSegment, SegmentPosition } from './chain-segment.js';
import { ChainLogCorruptError } from './errors.js';
import type { ChainEntry } from './types.js';

/** The segments a read walks through, and their files open for reading. */
export interface SegmentSource {
  /** Segments in offset order; the last is the one being written. */
  readonly segments: readonly ChainSegment[];
  withFile<Result>(segment: ChainSegment, action: (file: DiskFile) => Promise<Result>): Promise<Result>;
}

/** A record found by a cursor: its frame, its offset and where it starts in the file. */
interface PositionedRecord {
  readonly record: ChainFramedRecord;
  readonly offset: number;
  readonly position: number;
}

/**
 * Walks one segment's records from a known record position, reading a chunk at a time and
 * checking each record's checksums only as it is reached, so a small read decodes little.
 */
class SegmentCursor {
  private readonly decoder: ChainRecordDecoder;
  private buffer: Uint8Array = new Uint8Array(0);
  private bufferStart: number;
  private at = 0;

  constructor(
    private readonly file: DiskFile,
    private readonly segment: ChainSegment,
    position: number,
    private expectedOffset: number,
    private readonly chunkBytes: number,
  ) {
    this.decoder = new ChainRecordDecoder(file.path);
    this.bufferStart = position;
  }

  decode(found: PositionedRecord, into: Uint8Array, at: number): ChainEntry {
    return this.decoder.entry(found.record, into, at);
  }

  /** The next record, or undefined at the end of what the segment has written. */
  async next(): Promise<PositionedRecord | undefined> {
    for (;;) {
      const position = this.bufferStart + this.at;
      if (position >= this.segment.sizeBytes) return undefined;
      const frame = frameAt<ChainRecordType>(
        this.buffer,
        this.at,
        this.file.path,
        CHAIN_FRAME_FORMAT,
        position,
      );
      if (frame.kind === 'record') {
        const offset = this.decoder.offsetOf(frame.record);
        if (offset !== this.expectedOffset) {
          this.decoder.fail(frame.record, `record ${offset} where ${this.expectedOffset} was expected`);
        }
        this.expectedOffset++;
        this.at = frame.end;
        return { record: frame.record, offset, position };
      }
      if (frame.kind !== 'incomplete') {
        throw new ChainLogCorruptError(this.file.path, position, `${frame.kind} in a written record`);
      }
      await this.refill(position);
    }
  }

  /** Reads from `position` on: a chunk, or the whole record there when it is larger. */
  private async refill(position: number): Promise<void> {
    const available = this.segment.sizeBytes - position;
    const pending = this.buffer.subarray(this.at);
    const recordBytes =
      pending.byteLength >= RECORD_HEADER_BYTES
        ? RECORD_HEADER_BYTES + new DataView(pending.buffer, pending.byteOffset, 4).getUint32(0, true)
        : 0;
    if (pending.byteLength > 0 && pending.byteLength >= available) {
      throw new ChainLogCorruptError(
        this.file.path,
        position,
        'a record runs past what the segment has written',
      );
    }
    const length = Math.min(available, Math.max(this.chunkBytes, recordBytes));
    const bytes = await this.file.readAt(position, length);
    if (bytes.byteLength < length) {
      throw new ChainLogCorruptError(
        this.file.path,
        position + bytes.byteLength,
        'file shorter than its records',
      );
    }
    this.buffer = bytes;
    this.bufferStart = position;
    this.at = 0;
  }
}

function cursorAt(file: DiskFile, segment: ChainSegment, offset: number, chunkBytes: number): SegmentCursor {
  const start = segment.seek(offset);
  return new SegmentCursor(file, segment, start.position, start.offset, chunkBytes);
}

/** Index of the segment holding `offset` (the last one when `offset` is the log's end). */
export function segmentIndexOf(segments: readonly ChainSegment[], offset: number): number {
  let low = 0;
  let high = segments.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (segments[middle]!.firstOffset <= offset) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * Records from `fromOffset`, at most `maxRecords`, stopping before the payload bytes would pass
 * `maxBytes` (the first record is returned whatever its size).
 */
export async function readRecords(
  source: SegmentSource,
  fromOffset: number,
  maxRecords: number,
  maxBytes: number,
): Promise<ChainEntry[]> {
  const found: { readonly cursor: SegmentCursor; readonly record: PositionedRecord }[] = [];
  let payloadBytes = 0;
  // The budget, a quarter more for framing, and the records the sparse index makes it skip;
  // a read that needs more reads on.
  const chunkBytes = Math.min(
    MAX_CHAIN_READ_BYTES,
    Math.max(CHAIN_READ_CHUNK_BYTES, Math.ceil(maxBytes * 1.25) + CHAIN_INDEX_INTERVAL_BYTES),
  );
  for (let index = segmentIndexOf(source.segments, fromOffset); index < source.segments.length; index++) {
    const segment = source.segments[index]!;
    const offset = Math.max(fromOffset, segment.firstOffset);
    if (offset >= segment.nextOffset) continue;
    const full = await source.withFile(segment, async (file) => {
      const cursor = cursorAt(file, segment, offset, chunkBytes);
      for (let record = await cursor.next(); record !== undefined; record = await cursor.next()) {
        if (record.offset < fromOffset) continue;
        const recordPayloadBytes = record.record.payload.byteLength - CHAIN_ENTRY_FIXED_BYTES;
        if (found.length > 0 && payloadBytes + recordPayloadBytes > maxBytes) return true;
        found.push({ cursor, record });
        payloadBytes += recordPayloadBytes;
        if (found.length >= maxRecords) return true;
      }
      return false;
    });
    if (full) break;
  }
  const payloads = new Uint8Array(payloadBytes);
  let at = 0;
  return found.map(({ cursor, record }) => {
    const entry = cursor.decode(record, payloads, at);
    at += entry.payload.byteLength;
    return entry;
  });
}

/** Where the record with `offset` starts in `segment` (its end of records for `nextOffset`). */
export async function locateRecord(
  file: DiskFile,
  segment: ChainSegment,
  offset: number,
): Promise<SegmentPosition> {
  if (offset === segment.nextOffset) return { offset, position: segment.sizeBytes };
  const cursor = cursorAt(file, segment, offset, CHAIN_READ_CHUNK_BYTES);
  for (let found = await cursor.next(); found !== undefined; found = await cursor.next()) {
    if (found.offset === offset) return { offset, position: found.position };
  }
  throw new ChainLogCorruptError(file.path, segment.sizeBytes, `record ${offset} not found in its segment`);
}
