import { assert, dataViewOf, scratchBytes } from '../lib/index.js';
import { readUint64, writeUint32At, writeUint64, writeUint64At } from './bytes.js';
import { CorruptionError, RecordTooLargeError } from './errors.js';
import { MAX_RECORD_PAYLOAD_BYTES } from './limits.js';
import {
  encodeRecord,
  type FramedRecord,
  RECORD_HEADER_BYTES,
  RecordType,
  sealRecordAt,
} from './record-frame.js';
import type { StoredEntry, StoredHardState } from './types.js';

/** Identifies a segment file: "MWAL" read as a little-endian u32. */
const SEGMENT_MAGIC = 0x4c41574d;
const SEGMENT_FORMAT_VERSION = 1;

const SEGMENT_HEADER_PAYLOAD_BYTES = 16;
const ENTRY_FIXED_PAYLOAD_BYTES = 20;
const HARD_STATE_PAYLOAD_BYTES = 24;
const TRUNCATE_PAYLOAD_BYTES = 8;
const MAX_ENTRY_KIND = 0xffff_ffff;

export function encodeSegmentHeader(firstIndex: number): Uint8Array {
  return encodeRecord(RecordType.segmentHeader, SEGMENT_HEADER_PAYLOAD_BYTES, (view) => {
    view.setUint32(0, SEGMENT_MAGIC, true);
    view.setUint32(4, SEGMENT_FORMAT_VERSION, true);
    writeUint64(view, 8, firstIndex);
  });
}

export function encodeEntry(entry: StoredEntry): Uint8Array {
  const record = scratchBytes(entryRecordBytes(entry));
  writeEntryRecord(record, 0, entry);
  return record;
}

/** The bytes `entry`'s whole record takes (header included); throws `RecordTooLargeError`. */
export function entryRecordBytes(entry: StoredEntry): number {
  assert(
    Number.isSafeInteger(entry.index) && entry.index >= 1,
    `entry index must be >= 1, got ${entry.index}`,
  );
  assert(Number.isSafeInteger(entry.term) && entry.term >= 0, `entry term must be >= 0, got ${entry.term}`);
  assert(
    Number.isInteger(entry.kind) && entry.kind >= 0 && entry.kind <= MAX_ENTRY_KIND,
    `entry kind must be a u32, got ${entry.kind}`,
  );
  const payloadBytes = ENTRY_FIXED_PAYLOAD_BYTES + entry.data.byteLength;
  if (payloadBytes > MAX_RECORD_PAYLOAD_BYTES)
    throw new RecordTooLargeError(payloadBytes, MAX_RECORD_PAYLOAD_BYTES);
  return RECORD_HEADER_BYTES + payloadBytes;
}

/**
 * Writes `entry`'s record (as `encodeEntry` makes it) at `offset` of `target`, which has room
 * for `entryRecordBytes(entry)`; returns the offset after it. Byte by byte rather than through
 * a DataView and a closure, so that a batch of entries written into one buffer makes no object
 * per entry.
 */
export function writeEntryRecord(target: Uint8Array, offset: number, entry: StoredEntry): number {
  const payload = offset + RECORD_HEADER_BYTES;
  const payloadBytes = ENTRY_FIXED_PAYLOAD_BYTES + entry.data.byteLength;
  writeUint64At(target, payload, entry.index);
  writeUint64At(target, payload + 8, entry.term);
  writeUint32At(target, payload + 16, entry.kind);
  target.set(entry.data, payload + ENTRY_FIXED_PAYLOAD_BYTES);
  return sealRecordAt(target, offset, RecordType.entry, payloadBytes);
}

export function encodeHardState(hardState: StoredHardState): Uint8Array {
  const record = scratchBytes(HARD_STATE_RECORD_BYTES);
  writeHardStateRecord(record, 0, hardState);
  return record;
}

/** The bytes a hard state's whole record takes. */
export const HARD_STATE_RECORD_BYTES = RECORD_HEADER_BYTES + HARD_STATE_PAYLOAD_BYTES;

/** Writes a hard state's record at `offset` of `target` (as `writeEntryRecord`); returns the offset after it. */
export function writeHardStateRecord(target: Uint8Array, offset: number, hardState: StoredHardState): number {
  const payload = offset + RECORD_HEADER_BYTES;
  writeUint64At(target, payload, hardState.term);
  writeUint64At(target, payload + 8, hardState.vote);
  writeUint64At(target, payload + 16, hardState.commit);
  return sealRecordAt(target, offset, RecordType.hardState, HARD_STATE_PAYLOAD_BYTES);
}

export function encodeTruncateSuffix(fromIndex: number): Uint8Array {
  return encodeRecord(RecordType.truncateSuffix, TRUNCATE_PAYLOAD_BYTES, (view) => {
    writeUint64(view, 0, fromIndex);
  });
}

/** Decoders check sizes and ranges; a record with a valid checksum but a bad body is still corruption. */
export class RecordDecoder {
  constructor(private readonly file: string) {}

  segmentHeader(record: FramedRecord): { firstIndex: number } {
    const view = this.expectSize(record, SEGMENT_HEADER_PAYLOAD_BYTES, 'segment header');
    if (view.getUint32(0, true) !== SEGMENT_MAGIC) this.fail(record, 'bad segment magic');
    const version = view.getUint32(4, true);
    if (version !== SEGMENT_FORMAT_VERSION)
      this.fail(record, `unsupported segment format version ${version}`);
    return { firstIndex: this.uint64(record, view, 8) };
  }

  entry(record: FramedRecord): StoredEntry {
    if (record.payload.byteLength < ENTRY_FIXED_PAYLOAD_BYTES) this.fail(record, 'entry record too short');
    const view = dataViewOf(record.payload);
    return {
      index: this.uint64(record, view, 0),
      term: this.uint64(record, view, 8),
      kind: view.getUint32(16, true),
      // A copy, so recovered entries do not pin the whole segment buffer in memory.
      data: record.payload.slice(ENTRY_FIXED_PAYLOAD_BYTES),
    };
  }

  hardState(record: FramedRecord): StoredHardState {
    const view = this.expectSize(record, HARD_STATE_PAYLOAD_BYTES, 'hard state');
    return {
      term: this.uint64(record, view, 0),
      vote: this.uint64(record, view, 8),
      commit: this.uint64(record, view, 16),
    };
  }

  truncateSuffix(record: FramedRecord): { fromIndex: number } {
    const view = this.expectSize(record, TRUNCATE_PAYLOAD_BYTES, 'truncate marker');
    return { fromIndex: this.uint64(record, view, 0) };
  }

  fail(record: FramedRecord, reason: string): never {
    throw new CorruptionError(this.file, record.offset, reason);
  }

  private expectSize(record: FramedRecord, bytes: number, what: string): DataView {
    if (record.payload.byteLength !== bytes) {
      this.fail(record, `${what} record has ${record.payload.byteLength} bytes, expected ${bytes}`);
    }
    return dataViewOf(record.payload);
  }

  private uint64(record: FramedRecord, view: DataView, offset: number): number {
    const value = readUint64(view, offset);
    if (value === undefined) this.fail(record, 'integer field beyond the safe range');
    return value;
  }
}
