import { assert, dataViewOf, scratchBytes } from '../lib/index.js';
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
 */
export const RECORD_HEADER_BYTES = 16;

export const RecordType = {
  segmentHeader: 1,
  entry: 2,
  hardState: 3,
  truncateSuffix: 4,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const KNOWN_RECORD_TYPES = new Set<number>(Object.values(RecordType));

/** Frames `payloadBytes` bytes written by `fill` into one buffer with header and checksums. */
export function encodeRecord(
  type: RecordType,
  payloadBytes: number,
  fill: (payload: DataView) => void,
): Uint8Array {
  assert(payloadBytes <= MAX_RECORD_PAYLOAD_BYTES, `record payload of ${payloadBytes} bytes is too large`);
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

export interface FramedRecord {
  readonly type: RecordType;
  /** Byte offset of the record's header in its file. */
  readonly offset: number;
  readonly payload: Uint8Array;
}

export interface SegmentScan {
  readonly records: FramedRecord[];
  /** End of the last whole, valid record: where the file should be cut if torn. */
  readonly validEndOffset: number;
  /** Why the tail was judged torn; undefined when the file ends cleanly. */
  readonly tornReason: string | undefined;
}

/**
 * Splits a segment into records, checking every checksum. A damaged record at the very
 * end of the last segment is a torn write and is reported through `tornReason`; any other
 * damage throws `CorruptionError` naming the file and byte offset.
 */
export function scanSegment(bytes: Uint8Array, file: string, isLastSegment: boolean): SegmentScan {
  const records: FramedRecord[] = [];
  const view = dataViewOf(bytes);
  let offset = 0;
  const torn = (reason: string): SegmentScan => {
    if (!isLastSegment) throw new CorruptionError(file, offset, `${reason} in a sealed segment`);
    return { records, validEndOffset: offset, tornReason: reason };
  };
  while (offset < bytes.byteLength) {
    const remaining = bytes.byteLength - offset;
    if (remaining < RECORD_HEADER_BYTES) return torn(`incomplete record header (${remaining} bytes)`);
    const headerChecksum = view.getUint32(offset + 8, true);
    if (crc32c(bytes, 0, offset, offset + 8) !== headerChecksum) {
      // A header cut short by a crash leaves zeros or nothing; anything else is damage.
      if (allZero(bytes, offset)) return torn('zero-filled tail');
      throw new CorruptionError(file, offset, 'record header checksum mismatch');
    }
    const payloadBytes = view.getUint32(offset, true);
    const type = view.getUint8(offset + 4);
    if (
      !KNOWN_RECORD_TYPES.has(type) ||
      view.getUint8(offset + 5) !== 0 ||
      view.getUint16(offset + 6, true) !== 0
    ) {
      throw new CorruptionError(file, offset, `unknown record type ${type}`);
    }
    if (payloadBytes > MAX_RECORD_PAYLOAD_BYTES) {
      throw new CorruptionError(file, offset, `record length ${payloadBytes} exceeds the limit`);
    }
    const payloadStart = offset + RECORD_HEADER_BYTES;
    const payloadEnd = payloadStart + payloadBytes;
    if (payloadEnd > bytes.byteLength) {
      return torn(`record of ${payloadBytes} bytes runs past the end of the file`);
    }
    if (crc32c(bytes, 0, payloadStart, payloadEnd) !== view.getUint32(offset + 12, true)) {
      if (payloadEnd === bytes.byteLength) return torn('checksum mismatch in the final record');
      throw new CorruptionError(file, offset, 'record checksum mismatch');
    }
    records.push({ type: type as RecordType, offset, payload: bytes.subarray(payloadStart, payloadEnd) });
    offset = payloadEnd;
  }
  return { records, validEndOffset: offset, tornReason: undefined };
}

function allZero(bytes: Uint8Array, from: number): boolean {
  for (let index = from; index < bytes.byteLength; index++) if (bytes[index] !== 0) return false;
  return true;
}
