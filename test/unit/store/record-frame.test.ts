import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import { concatBytes } from '../../../src/store/bytes.js';
import { crc32c } from '../../../src/store/crc32c.js';
import { RECORD_HEADER_BYTES, RecordType, scanSegment } from '../../../src/store/record-frame.js';
import {
  encodeEntry,
  encodeHardState,
  entryRecordBytes,
  HARD_STATE_RECORD_BYTES,
  RecordDecoder,
  writeEntryRecord,
  writeHardStateRecord,
} from '../../../src/store/records.js';
import { entry } from './support.js';

function segmentOf(...records: Uint8Array[]): Uint8Array {
  return Uint8Array.from(records.flatMap((record) => [...record]));
}

/** A record as the format describes it, through a DataView: the bytes on disk must not change. */
function referenceRecord(type: number, payload: Uint8Array): Uint8Array {
  const record = new Uint8Array(RECORD_HEADER_BYTES + payload.byteLength);
  const view = new DataView(record.buffer);
  view.setUint32(0, payload.byteLength, true);
  view.setUint8(4, type);
  view.setUint32(8, crc32c(record, 0, 0, 8), true);
  record.set(payload, RECORD_HEADER_BYTES);
  view.setUint32(12, crc32c(record, 0, RECORD_HEADER_BYTES, record.byteLength), true);
  return record;
}

function uint64Pair(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % 2 ** 32, true);
  view.setUint32(offset + 4, Math.floor(value / 2 ** 32), true);
}

describe('record layout', () => {
  it('writes entry and hard state records byte for byte as the format says, one after another in one buffer', () => {
    const stored = {
      index: 2 ** 40 + 5,
      term: 2 ** 33 + 1,
      kind: 0xfedc_ba98,
      data: Uint8Array.from([1, 2, 3]),
    };
    const entryPayload = new Uint8Array(20 + 3);
    const entryView = new DataView(entryPayload.buffer);
    uint64Pair(entryView, 0, stored.index);
    uint64Pair(entryView, 8, stored.term);
    entryView.setUint32(16, stored.kind, true);
    entryPayload.set(stored.data, 20);
    const hardState = { term: 2 ** 35 + 9, vote: 3, commit: 2 ** 40 + 4 };
    const hardStatePayload = new Uint8Array(24);
    const hardStateView = new DataView(hardStatePayload.buffer);
    uint64Pair(hardStateView, 0, hardState.term);
    uint64Pair(hardStateView, 8, hardState.vote);
    uint64Pair(hardStateView, 16, hardState.commit);

    const block = new Uint8Array(entryRecordBytes(stored) + HARD_STATE_RECORD_BYTES + 4).fill(0xaa);
    const entryEnd = writeEntryRecord(block, 2, stored);
    const hardStateEnd = writeHardStateRecord(block, entryEnd, hardState);
    const expectedEntry = referenceRecord(RecordType.entry, entryPayload);
    const expectedHardState = referenceRecord(RecordType.hardState, hardStatePayload);
    expect([...block.subarray(2, entryEnd)]).toEqual([...expectedEntry]);
    expect([...block.subarray(entryEnd, hardStateEnd)]).toEqual([...expectedHardState]);
    expect([block[0], block[1], block[hardStateEnd], block[hardStateEnd + 1]]).toEqual([
      0xaa, 0xaa, 0xaa, 0xaa,
    ]);
    expect([...encodeEntry(stored)]).toEqual([...expectedEntry]);
    expect([...encodeHardState(hardState)]).toEqual([...expectedHardState]);
  });

  it('joins records lying one after another in one buffer without copying them, and copies others', () => {
    const block = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const adjacent = [block.subarray(1, 3), block.subarray(3, 4), block.subarray(4, 6)];
    const joined = concatBytes(adjacent, 5);
    expect(joined.buffer).toBe(block.buffer);
    expect([...joined]).toEqual([2, 3, 4, 5, 6]);
    const gapped = concatBytes([block.subarray(0, 2), block.subarray(3, 5)], 4);
    expect(gapped.buffer).not.toBe(block.buffer);
    expect([...gapped]).toEqual([1, 2, 4, 5]);
    const elsewhere = concatBytes([block.subarray(0, 2), Uint8Array.from([3, 4])], 4);
    expect([...elsewhere]).toEqual([1, 2, 3, 4]);
  });
});

describe('record framing', () => {
  it('round-trips entries and hard state through a scan', () => {
    const original = entry(7, 3, 40);
    const bytes = segmentOf(encodeEntry(original), encodeHardState({ term: 3, vote: 2, commit: 6 }));
    const scan = scanSegment(bytes, 'segment', true);
    expect(scan.tornReason).toBeUndefined();
    expect(scan.records.map((record) => record.type)).toEqual([RecordType.entry, RecordType.hardState]);
    const decoder = new RecordDecoder('segment');
    expect(decoder.entry(scan.records[0]!)).toEqual(original);
    expect(decoder.hardState(scan.records[1]!)).toEqual({ term: 3, vote: 2, commit: 6 });
  });

  it('reports every kind of cut-short final record as torn at the last good offset', () => {
    const first = encodeEntry(entry(1, 1, 20));
    const second = encodeEntry(entry(2, 1, 20));
    const whole = segmentOf(first, second);
    for (const keep of [1, RECORD_HEADER_BYTES - 1, RECORD_HEADER_BYTES, second.byteLength - 1]) {
      const scan = scanSegment(whole.subarray(0, first.byteLength + keep), 'segment', true);
      expect(scan.tornReason).toBeDefined();
      expect(scan.validEndOffset).toBe(first.byteLength);
      expect(scan.records).toHaveLength(1);
    }
    const zeroTail = segmentOf(first, new Uint8Array(40));
    expect(scanSegment(zeroTail, 'segment', true).validEndOffset).toBe(first.byteLength);
  });

  it('treats a bad checksum in the final record as torn only in the last segment', () => {
    const first = encodeEntry(entry(1, 1, 20));
    const bytes = segmentOf(first, encodeEntry(entry(2, 1, 20)));
    bytes[bytes.byteLength - 1]! ^= 0x10;
    expect(scanSegment(bytes, 'segment', true).validEndOffset).toBe(first.byteLength);
    expect(() => scanSegment(bytes, 'sealed', false)).toThrow(
      expect.objectContaining({ code: 'STORE_CORRUPT', file: 'sealed', offset: first.byteLength }),
    );
  });

  it('rejects damage before the tail with the file and offset', () => {
    const first = encodeEntry(entry(1, 1, 20));
    const second = encodeEntry(entry(2, 1, 20));
    const bytes = segmentOf(first, second, encodeEntry(entry(3, 1, 20)));
    bytes[first.byteLength + RECORD_HEADER_BYTES + 3]! ^= 0x01;
    let caught: unknown;
    try {
      scanSegment(bytes, 'log-1.wal', true);
    } catch (error) {
      caught = error;
    }
    expect(isMeshError(caught, 'STORE_CORRUPT')).toBe(true);
    expect(caught).toMatchObject({ file: 'log-1.wal', offset: first.byteLength });
  });

  it('catches a flipped length bit through the header checksum instead of calling it torn', () => {
    const first = encodeEntry(entry(1, 1, 20));
    const bytes = segmentOf(first, encodeEntry(entry(2, 1, 20)), encodeEntry(entry(3, 1, 20)));
    bytes[first.byteLength + 2]! ^= 0x01;
    expect(() => scanSegment(bytes, 'segment', true)).toThrow(
      expect.objectContaining({ code: 'STORE_CORRUPT', offset: first.byteLength }),
    );
  });
  // Found by the torn-write fuzzer (test/fuzz/targets/crash-targets.ts): a crash that garbles the
  // header of the last record written, or leaves zeros after a half-written one, stopped the open.
  it('treats a garbled header of the final record as torn, but not with a whole record after it', () => {
    const first = encodeEntry(entry(1, 1, 20));
    const bytes = segmentOf(first, encodeEntry(entry(2, 1, 20)));
    bytes[first.byteLength]! ^= 0x01;
    const scan = scanSegment(bytes, 'segment', true);
    expect(scan.tornReason).toBe('garbled header of the final record');
    expect(scan.validEndOffset).toBe(first.byteLength);
    expect(() => scanSegment(bytes, 'sealed', false)).toThrow(
      expect.objectContaining({ code: 'STORE_CORRUPT' }),
    );
    const followed = segmentOf(bytes, encodeEntry(entry(3, 1, 20)));
    expect(() => scanSegment(followed, 'segment', true)).toThrow(
      expect.objectContaining({ code: 'STORE_CORRUPT', offset: first.byteLength }),
    );
  });

  it('treats a final record with a bad checksum and zeros after it as torn', () => {
    const first = encodeEntry(entry(1, 1, 20));
    const second = encodeEntry(entry(2, 1, 20));
    const bytes = segmentOf(first, second, new Uint8Array(64));
    bytes[first.byteLength + second.byteLength - 3] = 0;
    bytes[first.byteLength + second.byteLength - 2] = 0;
    bytes[first.byteLength + second.byteLength - 1] = 0;
    expect(scanSegment(bytes, 'segment', true).validEndOffset).toBe(first.byteLength);
    expect(() => scanSegment(bytes, 'sealed', false)).toThrow(
      expect.objectContaining({ code: 'STORE_CORRUPT' }),
    );
    bytes[bytes.byteLength - 1] = 7;
    expect(() => scanSegment(bytes, 'segment', true)).toThrow(
      expect.objectContaining({ code: 'STORE_CORRUPT', offset: first.byteLength }),
    );
  });
});
