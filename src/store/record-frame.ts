import { assert, dataViewOf, scratchBytes } from '../lib/index.js';
import { writeUint32At } from './bytes.js';
import { crc32c } from './crc32c.js';
import { CorruptionError } from './errors.js';
import { MAX_RECORD_PAYLOAD_BYTES } from './limits.js';

/**
 * Every record in a segment is framed as (little-endian):
 *
 *   0  u32 payload length
 *   4  u8  record type
 *   5  u8  0 (reserved)
 *   6  u16 0 (reserved)
 *   8  u32 CRC-32C of bytes 0..8 (the header checksum)
 *  12  u32 CRC-32C of the payload
 *  16  payload
 *
 * The header has its own checksum so that a flipped bit in a length is caught as
 * corruption instead of being mistaken for a record that runs past the end of the file.
 * The Raft log and the chains' logs share this framing; each has its own record types.
 */
export const RECORD_HEADER_BYTES = 16;

export const RecordType = {
  segmentHeader: 1,
  entry: 2,
  hardState: 3,
  truncateSuffix: 4,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** What one kind of segment file allows in its frames, and how its damage is reported. */
export interface FrameFormat {
  readonly knownTypes: ReadonlySet<number>;
  readonly maxPayloadBytes: number;
  corrupt(file: string, offset: number, reason: string): Error;
}

/** The Raft write-ahead log's frames. */
export const STORE_FRAME_FORMAT: FrameFormat = {
  knownTypes: new Set<number>(Object.values(RecordType)),
  maxPayloadBytes: MAX_RECORD_PAYLOAD_BYTES,
  corrupt: (file, offset, reason) => new CorruptionError(file, offset, reason),
};

/** Frames `payloadBytes` bytes written by `fill` into one buffer with header and checksums. */
export function encodeFrame(
  type: number,
  payloadBytes: number,
  fill: (payload: DataView) => void,
): Uint8Array {
  // Records are written to the log file and dropped, so pooled memory is fine; every byte
  // is written below (the reserved header bytes explicitly).
  const record = scratchBytes(RECORD_HEADER_BYTES + payloadBytes);
  const view = dataViewOf(record);
  view.setUint32(0, payloadBytes, true);
  view.setUint8(4, type);
  view.setUint8(5, 0);
  view.setUint16(6, 0);
  view.setUint32(8, crc32c(record, 0, 0, 8), true);
  fill(new DataView(record.buffer, record.byteOffset + RECORD_HEADER_BYTES, payloadBytes));
  view.setUint32(12, crc32c(record, 0, RECORD_HEADER_BYTES, record.byteLength), true);
  return record;
}

/**
 * Writes the header of the frame at `offset` of `target`, whose `payloadBytes` of payload are
 * already written behind it, checksums included; returns the offset after the frame.
 */
export function sealRecordAt(target: Uint8Array, offset: number, type: number, payloadBytes: number): number {
  const end = offset + RECORD_HEADER_BYTES + payloadBytes;
  writeUint32At(target, offset, payloadBytes);
  target[offset + 4] = type;
  target[offset + 5] = 0;
  target[offset + 6] = 0;
  target[offset + 7] = 0;
  writeUint32At(target, offset + 8, crc32c(target, 0, offset, offset + 8));
  writeUint32At(target, offset + 12, crc32c(target, 0, offset + RECORD_HEADER_BYTES, end));
  return end;
}

/** Frames one Raft write-ahead log record. */
export function encodeRecord(
  type: RecordType,
  payloadBytes: number,
  fill: (payload: DataView) => void,
): Uint8Array {
  assert(payloadBytes <= MAX_RECORD_PAYLOAD_BYTES, `record payload of ${payloadBytes} bytes is too large`);
  return encodeFrame(type, payloadBytes, fill);
}

export interface FramedRecord<Type extends number = RecordType> {
  readonly type: Type;
  /** Byte offset of the record's header in its file (or in the bytes scanned). */
  readonly offset: number;
  readonly payload: Uint8Array;
}

/** What lies at one position of a segment's bytes. */
export type FrameAt<Type extends number> =
  | { readonly kind: 'record'; readonly record: FramedRecord<Type>; readonly end: number }
  /** The bytes end inside this frame: a torn write, or a read that stopped short. */
  | { readonly kind: 'incomplete'; readonly reason: string }
  | { readonly kind: 'header-mismatch' }
  | { readonly kind: 'payload-mismatch'; readonly end: number };

/**
 * Decodes the frame at `offset` of `bytes`, checking both checksums. A header with a valid
 * checksum but an unknown type, nonzero reserved bytes or a length above the format's limit
 * throws the format's corruption error.
 */
export function frameAt<Type extends number>(
  bytes: Uint8Array,
  offset: number,
  file: string,
  format: FrameFormat,
  fileOffset = offset,
): FrameAt<Type> {
  const remaining = bytes.byteLength - offset;
  if (remaining < RECORD_HEADER_BYTES) {
    return { kind: 'incomplete', reason: `incomplete record header (${remaining} bytes)` };
  }
  // Plain byte reads: a DataView per frame would cost more than the checksum of a small record.
  if (crc32c(bytes, 0, offset, offset + 8) !== uint32At(bytes, offset + 8)) {
    return { kind: 'header-mismatch' };
  }
  const payloadBytes = uint32At(bytes, offset);
  const type = bytes[offset + 4]!;
  if (
    !format.knownTypes.has(type) ||
    bytes[offset + 5] !== 0 ||
    bytes[offset + 6] !== 0 ||
    bytes[offset + 7] !== 0
  ) {
    throw format.corrupt(file, fileOffset, `unknown record type ${type}`);
  }
  if (payloadBytes > format.maxPayloadBytes) {
    throw format.corrupt(file, fileOffset, `record length ${payloadBytes} exceeds the limit`);
  }
  const payloadStart = offset + RECORD_HEADER_BYTES;
  const payloadEnd = payloadStart + payloadBytes;
  if (payloadEnd > bytes.byteLength) {
    return { kind: 'incomplete', reason: `record of ${payloadBytes} bytes runs past the end of the file` };
  }
  if (crc32c(bytes, 0, payloadStart, payloadEnd) !== uint32At(bytes, offset + 12)) {
    return { kind: 'payload-mismatch', end: payloadEnd };
  }
  const record = {
    type: type as Type,
    offset: fileOffset,
    payload: bytes.subarray(payloadStart, payloadEnd),
  };
  return { kind: 'record', record, end: payloadEnd };
}

export interface SegmentScan<Type extends number = RecordType> {
  readonly records: FramedRecord<Type>[];
  /** End of the last whole, valid record: where the file should be cut if torn. */
  readonly validEndOffset: number;
  /** Why the tail was judged torn; undefined when the file ends cleanly. */
  readonly tornReason: string | undefined;
  /**
   * The bytes after `validEndOffset` are zeros alone (or absent), no record begun in them: the
   * unused rest of a preallocated segment, or (in a file grown by appends) a size that reached
   * the disk before its data. `tornReason` still names it for the last segment.
   */
  readonly zeroTail: boolean;
  /**
   * End of the torn bytes (`validEndOffset` when there are none): the damaged record as far as
   * its frame, or the bytes that are not zero, reach. The zeros of a preallocated segment's
   * unused rest after it are not part of the tear.
   */
  readonly tornEndOffset: number;
}

/**
 * Splits a segment into records, checking every checksum. A damaged record at the very
 * end of the last segment is a torn write and is reported through `tornReason`; any other
 * damage throws the format's corruption error naming the file and byte offset.
 */
export function scanFrames<Type extends number>(
  bytes: Uint8Array,
  file: string,
  isLastSegment: boolean,
  format: FrameFormat,
): SegmentScan<Type> {
  const records: FramedRecord<Type>[] = [];
  let offset = 0;
  // Only looked for once the records stop, so a scan stays one pass over the records.
  let dataEnd = -1;
  const dataEndOffset = (): number => {
    if (dataEnd < 0) dataEnd = Math.max(offset, nonZeroEnd(bytes));
    return dataEnd;
  };
  /** `frameEnd`: where the damaged frame ends, when its header says. */
  const torn = (reason: string, frameEnd = offset): SegmentScan<Type> => {
    if (!isLastSegment) throw format.corrupt(file, offset, `${reason} in a sealed segment`);
    const zeroTail = dataEndOffset() === offset;
    const tornEndOffset = Math.max(dataEndOffset(), Math.min(frameEnd, bytes.byteLength));
    return { records, validEndOffset: offset, tornReason: reason, zeroTail, tornEndOffset };
  };
  while (offset < bytes.byteLength) {
    const frame = frameAt<Type>(bytes, offset, file, format);
    switch (frame.kind) {
      case 'record':
        records.push(frame.record);
        offset = frame.end;
        break;
      case 'incomplete':
        return torn(frame.reason, bytes.byteLength);
      case 'header-mismatch':
        // A header cut short by a crash leaves zeros or nothing; a garbled one is torn only
        // when no whole record follows it (it was the last write). Anything else is damage.
        if (dataEndOffset() === offset) return torn('zero-filled tail');
        if (isLastSegment && !holdsRecordAfter(bytes, offset, dataEndOffset(), format)) {
          return torn('garbled header of the final record');
        }
        throw format.corrupt(file, offset, 'record header checksum mismatch');
      case 'payload-mismatch':
        // Zeros after it: the file's size reached the disk before its data did, or the record
        // was cut short inside a preallocated segment.
        if (dataEndOffset() <= frame.end) return torn('checksum mismatch in the final record', frame.end);
        throw format.corrupt(file, offset, 'record checksum mismatch');
    }
  }
  return { records, validEndOffset: offset, tornReason: undefined, zeroTail: true, tornEndOffset: offset };
}

/** Splits a Raft write-ahead log segment into records (see `scanFrames`). */
export function scanSegment(bytes: Uint8Array, file: string, isLastSegment: boolean): SegmentScan {
  return scanFrames<RecordType>(bytes, file, isLastSegment, STORE_FRAME_FORMAT);
}

/** The little-endian u32 at `offset`. */
function uint32At(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>>
    0
  );
}

/**
 * The offset after the last byte that is not zero (0 when every byte is). Read from the end, a
 * word at a time where the bytes are aligned, since a preallocated segment may end in tens of
 * megabytes of zeros.
 */
export function nonZeroEnd(bytes: Uint8Array): number {
  let end = bytes.byteLength;
  const alignedStart = Math.min(end, (4 - (bytes.byteOffset % 4)) % 4);
  const alignedEnd = alignedStart + (((end - alignedStart) >> 2) << 2);
  while (end > alignedEnd) {
    if (bytes[end - 1] !== 0) return end;
    end--;
  }
  if (alignedEnd > alignedStart) {
    const words = new Int32Array(
      bytes.buffer,
      bytes.byteOffset + alignedStart,
      (alignedEnd - alignedStart) >> 2,
    );
    let word = words.length;
    while (word > 0 && words[word - 1] === 0) word--;
    end = alignedStart + word * 4;
  }
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/**
 * Whether a whole valid record starts anywhere after the damaged header at `from` (and before
 * `dataEnd`: a record's header is never all zeros). A torn final record is at most one record
 * long, so past that length the answer is yes (damage, not a tear).
 */
function holdsRecordAfter(bytes: Uint8Array, from: number, dataEnd: number, format: FrameFormat): boolean {
  if (dataEnd - from > RECORD_HEADER_BYTES + format.maxPayloadBytes) return true;
  for (
    let offset = from + 1;
    offset < dataEnd && offset + RECORD_HEADER_BYTES <= bytes.byteLength;
    offset++
  ) {
    if (crc32c(bytes, 0, offset, offset + 8) !== uint32At(bytes, offset + 8)) continue;
    const payloadBytes = uint32At(bytes, offset);
    const payloadEnd = offset + RECORD_HEADER_BYTES + payloadBytes;
    if (
      format.knownTypes.has(bytes[offset + 4]!) &&
      payloadBytes <= format.maxPayloadBytes &&
      payloadEnd <= bytes.byteLength &&
      crc32c(bytes, 0, offset + RECORD_HEADER_BYTES, payloadEnd) === uint32At(bytes, offset + 12)
    ) {
      return true;
    }
  }
  return false;
}
