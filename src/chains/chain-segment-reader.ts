/**
 * Reading records back from a chain's segment files: from the sparse index's nearest entry, a
 * chunk at a time, checking every checksum on the way (a damaged record is never returned).
 */
import type { DiskFile } from '../lib/index.js';
import { frameAt, RECORD_HEADER_BYTES } from '../store/index.js';
import { CHAIN_READ_CHUNK_BYTES, MAX_CHAIN_READ_BYTES } from './chain-log-limits.js';
import { CHAIN_FRAME_FORMAT, ChainRecordDecoder, type ChainRecordType } from './chain-record-codec.js';
import type { ChainSegment, SegmentPosition } from './chain-segment.js';
import { ChainLogCorruptError } from './errors.js';
import type { ChainEntry } from './types.js';

export interface PositionedEntry {
  readonly entry: ChainEntry;
  /** Byte position of the record's frame in its file. */
  readonly position: number;
}

/** The segments a read walks through, and an open file for each. */
export interface SegmentSource {
  /** Segments in offset order; the last is the one being written. */
  readonly segments: readonly ChainSegment[];
  fileOf(segment: ChainSegment): Promise<DiskFile>;
}

/** Walks one segment's records from a known record position, a chunk at a time. */
class SegmentCursor {
  private readonly decoder: ChainRecordDecoder;

  constructor(
    private readonly file: DiskFile,
    private readonly segment: ChainSegment,
    private position: number,
    private expectedOffset: number,
    private readonly chunkBytes: number,
  ) {
    this.decoder = new ChainRecordDecoder(file.path);
  }

  /** The whole records of the next chunk; empty at the end of what the segment has written. */
  async next(): Promise<PositionedEntry[]> {
    const end = this.segment.sizeBytes;
    if (this.position >= end) return [];
    let bytes = await this.file.readAt(this.position, Math.min(end - this.position, this.chunkBytes));
    const entries: PositionedEntry[] = [];
    let at = 0;
    while (at < bytes.byteLength) {
      const frame = frameAt<ChainRecordType>(
        bytes,
        at,
        this.file.path,
        CHAIN_FRAME_FORMAT,
        this.position + at,
      );
      if (frame.kind === 'record') {
        const entry = this.decoder.entry(frame.record);
        if (entry.offset !== this.expectedOffset) {
          this.decoder.fail(frame.record, `record ${entry.offset} where ${this.expectedOffset} was expected`);
        }
        entries.push({ entry, position: this.position + at });
        this.expectedOffset++;
        at = frame.end;
        continue;
      }
      if (frame.kind !== 'incomplete') {
        throw new ChainLogCorruptError(
          this.file.path,
          this.position + at,
          `${frame.kind} in a written record`,
        );
      }
      if (at > 0) break;
      // One record larger than a chunk: read exactly that record.
      const recordBytes = this.recordBytesAt(bytes);
      if (recordBytes <= bytes.byteLength) {
        throw new ChainLogCorruptError(this.file.path, this.position, 'file shorter than its records');
      }
      bytes = await this.file.readAt(this.position, recordBytes);
      if (bytes.byteLength < recordBytes) {
        throw new ChainLogCorruptError(this.file.path, this.position, 'file shorter than its records');
      }
    }
    this.position += at;
    return entries;
  }

  private recordBytesAt(bytes: Uint8Array): number {
    if (bytes.byteLength < RECORD_HEADER_BYTES) return 0;
    return RECORD_HEADER_BYTES + new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
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
  const result: ChainEntry[] = [];
  let payloadBytes = 0;
  const chunkBytes = Math.max(CHAIN_READ_CHUNK_BYTES, Math.min(maxBytes, MAX_CHAIN_READ_BYTES));
  for (let index = segmentIndexOf(source.segments, fromOffset); index < source.segments.length; index++) {
    const segment = source.segments[index]!;
    const offset = Math.max(fromOffset, segment.firstOffset);
    if (offset >= segment.nextOffset) continue;
    const cursor = cursorAt(await source.fileOf(segment), segment, offset, chunkBytes);
    for (let chunk = await cursor.next(); chunk.length > 0; chunk = await cursor.next()) {
      for (const { entry } of chunk) {
        if (entry.offset < fromOffset) continue;
        if (result.length > 0 && payloadBytes + entry.payload.byteLength > maxBytes) return result;
        result.push(entry);
        payloadBytes += entry.payload.byteLength;
        if (result.length >= maxRecords) return result;
      }
    }
  }
  return result;
}

/** Where the record with `offset` starts in `segment` (its end of records for `nextOffset`). */
export async function locateRecord(
  file: DiskFile,
  segment: ChainSegment,
  offset: number,
): Promise<SegmentPosition> {
  if (offset === segment.nextOffset) return { offset, position: segment.sizeBytes };
  const cursor = cursorAt(file, segment, offset, CHAIN_READ_CHUNK_BYTES);
  for (let chunk = await cursor.next(); chunk.length > 0; chunk = await cursor.next()) {
    const found = chunk.find((positioned) => positioned.entry.offset === offset);
    if (found !== undefined) return { offset, position: found.position };
  }
  throw new ChainLogCorruptError(file.path, segment.sizeBytes, `record ${offset} not found in its segment`);
}
