import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import { RECORD_HEADER_BYTES, RecordType, scanSegment } from '../../../src/store/record-frame.js';
import { encodeEntry, encodeHardState, RecordDecoder } from '../../../src/store/records.js';
import { entry } from './support.js';

function segmentOf(...records: Uint8Array[]): Uint8Array {
  return Uint8Array.from(records.flatMap((record) => [...record]));
}

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
