import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DAEMON_CLIENT_ID_CHARACTERS } from '../../../src/daemons/cluster-limits.js';
import {
  decodeInboundEventRecord,
  decodeOutputRecord,
  encodeInboundEventRecord,
  encodeOutputRecord,
  type InboundEventRecord,
  MAX_DAEMON_OUTPUTS_PER_EVENT,
  type OutputRecord,
} from '../../../src/daemons/index.js';
import { isMeshError } from '../../../src/lib/index.js';

const inboundArbitrary: fc.Arbitrary<InboundEventRecord> = fc.record(
  {
    epoch: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    clientId: fc.string({ unit: 'grapheme', maxLength: 20 }),
    sequence: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    key: fc.string({ unit: 'grapheme', maxLength: 20 }),
    payload: fc.uint8Array({ maxLength: 300 }),
  },
  { requiredKeys: ['epoch', 'payload'] },
);

const outputArbitrary: fc.Arbitrary<OutputRecord> = fc.record({
  inboundOffset: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  index: fc.nat({ max: MAX_DAEMON_OUTPUTS_PER_EVENT - 1 }),
  payload: fc.uint8Array({ maxLength: 300 }),
});

/** Decodes, answering undefined for `DAEMON_RECORD_INVALID`; any other error fails the test. */
function decodedOrRefused<T>(decode: (bytes: Uint8Array) => T, bytes: Uint8Array): T | undefined {
  try {
    return decode(bytes);
  } catch (error) {
    if (isMeshError(error, 'DAEMON_RECORD_INVALID')) return undefined;
    throw error;
  }
}

function refusal(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): string {
  try {
    decode(bytes);
  } catch (error) {
    if (isMeshError(error, 'DAEMON_RECORD_INVALID')) return error.message;
    throw error;
  }
  throw new Error('expected DAEMON_RECORD_INVALID');
}

const codecs = [
  { name: 'inbound', decode: decodeInboundEventRecord, encode: encodeInboundEventRecord },
  { name: 'output', decode: decodeOutputRecord, encode: encodeOutputRecord },
] as const;

/** Decodes `bytes`: either refused, or a record whose encoding decodes to it again; true when decoded. */
function expectCanonicalOrRefused(codec: (typeof codecs)[number], bytes: Uint8Array): boolean {
  const record = decodedOrRefused(codec.decode as (bytes: Uint8Array) => unknown, bytes);
  if (record === undefined) return false;
  const again = (codec.encode as (record: unknown) => Uint8Array)(record);
  expect(codec.decode(again)).toEqual(record);
  return true;
}

describe('daemon record codecs', () => {
  it('round-trip every inbound record, absent optional fields staying absent', () => {
    fc.assert(
      fc.property(inboundArbitrary, (record) => {
        expect(decodeInboundEventRecord(encodeInboundEventRecord(record))).toEqual(record);
      }),
    );
  });

  it('round-trip every output record', () => {
    fc.assert(
      fc.property(outputArbitrary, (record) => {
        expect(decodeOutputRecord(encodeOutputRecord(record))).toEqual(record);
      }),
    );
  });

  it('refuse every truncation of a valid record and any trailing byte', () => {
    fc.assert(
      fc.property(inboundArbitrary, outputArbitrary, (inbound, output) => {
        const inboundBytes = encodeInboundEventRecord(inbound);
        const outputBytes = encodeOutputRecord(output);
        for (let length = 0; length < inboundBytes.length; length++) {
          expect(
            decodedOrRefused(decodeInboundEventRecord, inboundBytes.subarray(0, length)),
          ).toBeUndefined();
        }
        for (let length = 0; length < outputBytes.length; length++) {
          expect(decodedOrRefused(decodeOutputRecord, outputBytes.subarray(0, length))).toBeUndefined();
        }
        expect(
          decodedOrRefused(decodeInboundEventRecord, new Uint8Array([...inboundBytes, 0])),
        ).toBeUndefined();
        expect(decodedOrRefused(decodeOutputRecord, new Uint8Array([...outputBytes, 0]))).toBeUndefined();
      }),
    );
  });

  it('answer random bytes with DAEMON_RECORD_INVALID or a record that encodes back to itself', () => {
    for (const codec of codecs) {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          expectCanonicalOrRefused(codec, bytes);
        }),
        { numRuns: 2000 },
      );
    }
  });

  it('answer a valid record with one corrupted byte the same way, and decode those whose payload was hit', () => {
    let decoded = 0;
    fc.assert(
      fc.property(
        inboundArbitrary,
        outputArbitrary,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (inbound, output, at, flip) => {
          for (const [codec, bytes] of [
            [codecs[0], encodeInboundEventRecord(inbound)],
            [codecs[1], encodeOutputRecord(output)],
          ] as const) {
            bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ flip;
            if (expectCanonicalOrRefused(codec, bytes)) decoded += 1;
          }
        },
      ),
      { numRuns: 500 },
    );
    expect(decoded).toBeGreaterThan(0);
  });

  it('name what is wrong: version, flags, limits', () => {
    const valid = encodeInboundEventRecord({
      epoch: 3,
      clientId: 'c',
      sequence: 1,
      payload: new Uint8Array([7]),
    });
    expect(refusal(decodeInboundEventRecord, new Uint8Array([2, ...valid.subarray(1)]))).toBe(
      'inbound event record is invalid: unknown version 2 at byte 1',
    );
    expect(refusal(decodeInboundEventRecord, new Uint8Array([1, 8, ...valid.subarray(2)]))).toMatch(
      /unknown flags 8/,
    );
    const longClient = encodeInboundEventRecord({
      epoch: 1,
      clientId: 'x'.repeat(MAX_DAEMON_CLIENT_ID_CHARACTERS + 1),
      payload: new Uint8Array(),
    });
    expect(refusal(decodeInboundEventRecord, longClient)).toMatch(/text too long/);
    const farIndex = encodeOutputRecord({
      inboundOffset: 1,
      index: MAX_DAEMON_OUTPUTS_PER_EVENT,
      payload: new Uint8Array(),
    });
    expect(refusal(decodeOutputRecord, farIndex)).toMatch(/output index 64 is past the limit/);
    expect(refusal(decodeOutputRecord, new Uint8Array())).toMatch(/unexpected end/);
  });
});
