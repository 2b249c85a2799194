import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompactedError,
  decodeKvCommand,
  decodeKvResult,
  encodeKvCommand,
  encodeKvResult,
  KvCodecError,
  type KvCommand,
  type KvResult,
  LeaseNotFoundError,
  MAX_TXN_DEPTH,
} from '../../../src/kv/index.js';
import { bytes } from './helpers.js';

const sample: KvCommand[] = [
  {
    type: 'range',
    key: bytes('a'),
    rangeEnd: bytes('b'),
    limit: 10,
    revision: 7,
    keysOnly: true,
    serializable: true,
    sortOrder: 'descend',
    sortTarget: 'mod',
    minModRevision: 2,
    maxCreateRevision: 9,
  },
  { type: 'range', key: bytes('p'), prefix: true, countOnly: true },
  { type: 'put', key: bytes('k'), value: bytes('v'), lease: 2 ** 40, prevKv: true },
  { type: 'put', key: bytes('k'), value: new Uint8Array(), ignoreValue: true, ignoreLease: true },
  { type: 'deleteRange', key: bytes('a'), rangeEnd: new Uint8Array([0]), prevKv: true },
  {
    type: 'txn',
    compare: [
      { key: bytes('a'), target: 'value', result: 'equal', value: bytes('x') },
      { key: bytes('a'), rangeEnd: bytes('c'), target: 'mod', result: 'less', number: 5 },
    ],
    success: [
      { type: 'put', key: bytes('b'), value: bytes('1') },
      { type: 'txn', compare: [], success: [{ type: 'range', key: bytes('z') }], failure: [] },
    ],
    failure: [{ type: 'deleteRange', key: bytes('q') }],
  },
  { type: 'compact', revision: 12, physical: true },
  { type: 'compact', revision: 0 },
  { type: 'leaseGrant', id: 0, ttlSeconds: 30 },
  { type: 'leaseRevoke', id: 77 },
];

describe('command codec', () => {
  it('round-trips every command kind to an equal command', () => {
    for (const command of sample) {
      const encoded = encodeKvCommand(command);
      expect(decodeKvCommand(encoded)).toEqual(command);
      expect(encodeKvCommand(decodeKvCommand(encoded))).toEqual(encoded);
    }
  });

  it('is compact: a 16-byte key / 256-byte value put is a few bytes over its payload', () => {
    const encoded = encodeKvCommand({ type: 'put', key: new Uint8Array(16), value: new Uint8Array(256) });
    expect(encoded.length).toBeLessThanOrEqual(16 + 256 + 8);
  });

  it('rejects a truncated command, trailing bytes, an unknown kind and a wrong version with a codec error', () => {
    const encoded = encodeKvCommand(sample[2] as KvCommand);
    expect(() => decodeKvCommand(encoded.subarray(0, encoded.length - 1))).toThrow(KvCodecError);
    expect(() => decodeKvCommand(Uint8Array.of(...encoded, 0))).toThrow('trailing bytes');
    expect(() => decodeKvCommand(Uint8Array.of(1, 42))).toThrow('unknown command kind');
    expect(() => decodeKvCommand(Uint8Array.of(9, 0))).toThrow('unsupported format version');
    expect(() => decodeKvCommand(new Uint8Array())).toThrow(KvCodecError);
  });

  it('refuses txns nested deeper than MAX_TXN_DEPTH', () => {
    let txn: KvCommand = { type: 'txn', compare: [], success: [], failure: [] };
    for (let depth = 0; depth < MAX_TXN_DEPTH; depth++)
      txn = { type: 'txn', compare: [], success: [txn], failure: [] };
    expect(() => encodeKvCommand(txn)).toThrow(KvCodecError);
  });

  it('answers random bytes with a value or a KvCodecError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
        try {
          const command = decodeKvCommand(input);
          expect(encodeKvCommand(command)).toEqual(input);
        } catch (error) {
          expect(error).toBeInstanceOf(KvCodecError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('answers mutated valid commands with a value or a KvCodecError', () => {
    const encodings = sample.map(encodeKvCommand);
    fc.assert(
      fc.property(
        fc.constantFrom(...encodings),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (encoded, position, byte) => {
          const mutated = encoded.slice();
          mutated[position % mutated.length] = byte;
          try {
            decodeKvCommand(mutated);
          } catch (error) {
            expect(error).toBeInstanceOf(KvCodecError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('result codec', () => {
  const kv = { key: bytes('k'), value: bytes('v'), createRevision: 2, modRevision: 3, version: 2, lease: 0 };
  const results: KvResult[] = [
    { type: 'range', header: { revision: 5 }, kvs: [kv], more: true, count: 9 },
    { type: 'put', header: { revision: 5 }, prevKv: kv },
    { type: 'put', header: { revision: 5 } },
    { type: 'deleteRange', header: { revision: 6 }, deleted: 1, prevKvs: [kv] },
    {
      type: 'txn',
      header: { revision: 6 },
      succeeded: true,
      responses: [{ type: 'put', header: { revision: 6 } }],
    },
    { type: 'compact', header: { revision: 6 } },
    { type: 'leaseGrant', header: { revision: 6 }, id: 4, ttlSeconds: 10 },
    { type: 'leaseRevoke', header: { revision: 7 } },
  ];

  it('round-trips every result kind', () => {
    for (const result of results) expect(decodeKvResult(encodeKvResult(result))).toEqual(result);
  });

  it('rebuilds typed errors with their numbers', () => {
    const decoded = decodeKvResult(
      encodeKvResult({ type: 'error', header: { revision: 9 }, error: new CompactedError(4) }),
    );
    expect(decoded.type === 'error' && decoded.error).toBeInstanceOf(CompactedError);
    expect(decoded.type === 'error' && (decoded.error as CompactedError).compactRevision).toBe(4);
    const lease = decodeKvResult(
      encodeKvResult({ type: 'error', header: { revision: 9 }, error: new LeaseNotFoundError(12) }),
    );
    expect(lease.type === 'error' && lease.error.message).toBe('lease 12 not found');
  });

  it('answers random bytes with a value or a KvCodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
        try {
          decodeKvResult(input);
        } catch (error) {
          expect(error).toBeInstanceOf(KvCodecError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
