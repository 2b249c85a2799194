/**
 * The records of a chain's segment files, in the framing the Raft log uses (length, type, header
 * and payload CRC-32C: `src/store/record-frame.ts`). Payloads, little-endian:
 *
 *   segment header (type 1): u32 magic "MCHN", u32 format version (1), u64 first offset
 *   entry (type 2):          u64 offset, u64 epoch, f64 appendedAtMs, u32 kind (0 data,
 *                            1 epoch-start), then the record's payload
 */
import { dataViewOf } from '../lib/index.js';
import {
  encodeFrame,
  type FramedRecord,
  type FrameFormat,
  RECORD_HEADER_BYTES,
  readUint64,
  writeUint64,
} from '../store/index.js';
import { MAX_CHAIN_RECORD_BYTES } from './definition-limits.js';
import { ChainLogCorruptError } from './errors.js';
import type { ChainEntry, ChainEntryKind } from './types.js';

export const ChainRecordType = { segmentHeader: 1, entry: 2 } as const;
export type ChainRecordType = (typeof ChainRecordType)[keyof typeof ChainRecordType];
export type ChainFramedRecord = FramedRecord<ChainRecordType>;

/** "MCHN" read as a little-endian u32. */
const CHAIN_SEGMENT_MAGIC = 0x4e48434d;
const CHAIN_SEGMENT_FORMAT_VERSION = 1;
const SEGMENT_HEADER_PAYLOAD_BYTES = 16;
/** Bytes of an entry record before its payload. */
export const CHAIN_ENTRY_FIXED_BYTES = 28;
/** A whole segment header record, framing included: where a segment's first entry starts. */
export const CHAIN_SEGMENT_HEADER_BYTES = RECORD_HEADER_BYTES + SEGMENT_HEADER_PAYLOAD_BYTES;
/** Framing and fixed fields added to each record's payload on disk. */
export const CHAIN_RECORD_OVERHEAD_BYTES = RECORD_HEADER_BYTES + CHAIN_ENTRY_FIXED_BYTES;

const KIND_CODES: Readonly<Record<ChainEntryKind, number>> = { data: 0, 'epoch-start': 1 };
const KINDS_BY_CODE: readonly ChainEntryKind[] = ['data', 'epoch-start'];

export const CHAIN_FRAME_FORMAT: FrameFormat = {
  knownTypes: new Set<number>(Object.values(ChainRecordType)),
  maxPayloadBytes: CHAIN_ENTRY_FIXED_BYTES + MAX_CHAIN_RECORD_BYTES,
  corrupt: (file, offset, reason) => new ChainLogCorruptError(file, offset, reason),
};

export function encodeChainSegmentHeader(firstOffset: number): Uint8Array {
  return encodeFrame(ChainRecordType.segmentHeader, SEGMENT_HEADER_PAYLOAD_BYTES, (view) => {
    view.setUint32(0, CHAIN_SEGMENT_MAGIC, true);
    view.setUint32(4, CHAIN_SEGMENT_FORMAT_VERSION, true);
    writeUint64(view, 8, firstOffset);
  });
}

/** Frames one record; its fields were checked by the log (pooled memory: write it and drop it). */
export function encodeChainEntry(entry: ChainEntry): Uint8Array {
  return encodeFrame(ChainRecordType.entry, CHAIN_ENTRY_FIXED_BYTES + entry.payload.byteLength, (view) => {
    writeUint64(view, 0, entry.offset);
    writeUint64(view, 8, entry.epoch);
    view.setFloat64(16, entry.appendedAtMs, true);
    view.setUint32(24, KIND_CODES[entry.kind], true);
    new Uint8Array(view.buffer, view.byteOffset + CHAIN_ENTRY_FIXED_BYTES, entry.payload.byteLength).set(
      entry.payload,
    );
  });
}

/** Decodes records of one file; a record with valid checksums but a bad body is still corruption. */
export class ChainRecordDecoder {
  constructor(private readonly file: string) {}

  segmentHeader(record: ChainFramedRecord): number {
    if (record.type !== ChainRecordType.segmentHeader)
      this.fail(record, 'segment does not start with a header');
    if (record.payload.byteLength !== SEGMENT_HEADER_PAYLOAD_BYTES)
      this.fail(record, 'bad segment header size');
    const view = dataViewOf(record.payload);
    if (view.getUint32(0, true) !== CHAIN_SEGMENT_MAGIC) this.fail(record, 'bad segment magic');
    const version = view.getUint32(4, true);
    if (version !== CHAIN_SEGMENT_FORMAT_VERSION)
      this.fail(record, `unsupported segment format version ${version}`);
    return this.uint64(record, view, 8);
  }

  /**
   * The record's entry, its payload copied into `into` at `at` (one buffer for a whole read: a
   * small allocation per record costs more than the copy, and a view of the bytes read would pin
   * them).
   */
  entry(record: ChainFramedRecord, into: Uint8Array, at: number): ChainEntry {
    const fields = this.fields(record);
    const payload = into.subarray(at, at + record.payload.byteLength - CHAIN_ENTRY_FIXED_BYTES);
    payload.set(record.payload.subarray(CHAIN_ENTRY_FIXED_BYTES));
    return {
      offset: fields.offset,
      epoch: fields.epoch,
      kind: fields.kind,
      appendedAtMs: fields.appendedAtMs,
      payload,
    };
  }

  /** The record's fields without its payload (recovery needs only these). */
  fields(record: ChainFramedRecord): Omit<ChainEntry, 'payload'> {
    if (record.type !== ChainRecordType.entry) this.fail(record, 'a second segment header inside a segment');
    if (record.payload.byteLength < CHAIN_ENTRY_FIXED_BYTES) this.fail(record, 'entry record too short');
    const view = dataViewOf(record.payload);
    const appendedAtMs = view.getFloat64(16, true);
    if (!Number.isFinite(appendedAtMs) || appendedAtMs < 0)
      this.fail(record, `bad appendedAtMs ${appendedAtMs}`);
    const kind = KINDS_BY_CODE[view.getUint32(24, true)];
    if (kind === undefined) this.fail(record, `unknown entry kind ${view.getUint32(24, true)}`);
    return {
      offset: this.uint64(record, view, 0),
      epoch: this.uint64(record, view, 8),
      kind,
      appendedAtMs,
    };
  }

  /** Just the record's offset (a read skipping records before the one it wants). */
  offsetOf(record: ChainFramedRecord): number {
    if (record.type !== ChainRecordType.entry) this.fail(record, 'a second segment header inside a segment');
    if (record.payload.byteLength < CHAIN_ENTRY_FIXED_BYTES) this.fail(record, 'entry record too short');
    return this.uint64(record, dataViewOf(record.payload), 0);
  }

  fail(record: ChainFramedRecord, reason: string): never {
    throw new ChainLogCorruptError(this.file, record.offset, reason);
  }

  private uint64(record: ChainFramedRecord, view: DataView, at: number): number {
    const value = readUint64(view, at);
    if (value === undefined) this.fail(record, 'integer field beyond the safe range');
    return value;
  }
}
