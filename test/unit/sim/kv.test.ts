import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/raft/index.js';
import { encodeSessionEnvelope } from '../../../src/server/index.js';
import {
  decodeKvCommand,
  encodeKvCommand,
  encodeKvResult,
  type KvCommand,
  KvCommandDecodeError,
  KvStateMachine,
} from '../../../src/sim/index.js';

const command: fc.Arbitrary<KvCommand> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: fc.string(), value: fc.string() }),
  fc.record({ kind: fc.constant('get' as const), key: fc.string() }),
  fc.record({
    kind: fc.constant('cas' as const),
    key: fc.string(),
    expected: fc.option(fc.string(), { nil: null }),
    value: fc.string(),
  }),
);

describe('key-value command codec', () => {
  it('round-trips every command', () => {
    fc.assert(
      fc.property(command, (original) => {
        expect(decodeKvCommand(encodeKvCommand(original))).toEqual(original);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects truncated, padded and unknown input with a typed error', () => {
    const bytes = encodeKvCommand({ kind: 'cas', key: 'k', expected: null, value: 'v' });
    expect(() => decodeKvCommand(bytes.subarray(0, bytes.length - 1))).toThrow(KvCommandDecodeError);
    expect(() => decodeKvCommand(Uint8Array.of(...bytes, 0))).toThrow(KvCommandDecodeError);
    expect(() => decodeKvCommand(Uint8Array.of(9))).toThrow(KvCommandDecodeError);
    expect(() => decodeKvCommand(new Uint8Array(0))).toThrow(KvCommandDecodeError);
  });
});

function entry(index: number, clientId: string, sequence: number, kv: KvCommand): Entry {
  return {
    term: 1,
    index,
    kind: 'normal',
    data: encodeSessionEnvelope({ clientId, sequence, payload: encodeKvCommand(kv) }),
  };
}

describe('KvStateMachine', () => {
  it('applies put and cas, and answers a retried operation once with the first result', () => {
    const machine = new KvStateMachine();
    expect(machine.apply(entry(1, 'c0', 1, { kind: 'put', key: 'x', value: 'a' }))?.result).toEqual(
      encodeKvResult('put', true),
    );
    const swap = machine.apply(entry(2, 'c1', 1, { kind: 'cas', key: 'x', expected: 'a', value: 'b' }));
    expect(swap?.result).toEqual(encodeKvResult('cas', true));
    // The same cas committed again (a client retry): not applied twice, same answer.
    const retry = machine.apply(entry(3, 'c1', 1, { kind: 'cas', key: 'x', expected: 'a', value: 'b' }));
    expect(retry?.result).toEqual(encodeKvResult('cas', true));
    expect(machine.read('x')).toBe('b');
    const failed = machine.apply(entry(4, 'c0', 2, { kind: 'cas', key: 'x', expected: 'a', value: 'c' }));
    expect(failed?.result).toEqual(encodeKvResult('cas', false));
    expect(machine.read('x')).toBe('b');
    expect(machine.hasWritten('a')).toBe(true);
    expect(machine.hasWritten('c')).toBe(false);
    expect(machine.applied).toBe(4);
  });

  it('skips no-op and config entries but counts them as applied', () => {
    const machine = new KvStateMachine();
    expect(machine.apply({ term: 1, index: 1, kind: 'noop', data: new Uint8Array(0) })).toBeUndefined();
    expect(machine.applied).toBe(1);
    expect(machine.read('x')).toBeNull();
  });
});
