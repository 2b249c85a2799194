import { describe, expect, it } from 'vitest';
import {
  CompactedError,
  FutureRevisionError,
  KvStateMachine,
  MAX_REQUEST_BYTES,
  MAX_TXN_OPERATIONS,
  type RequestOp,
} from '../../../src/kv/index.js';
import { bytes, Harness, text } from './helpers.js';

describe('revisions and versions', () => {
  it('starts at revision 1 and each put advances it by one', () => {
    const harness = new Harness();
    expect(harness.machine.revision).toBe(1);
    expect(harness.put('a', '1').revision).toBe(2);
    expect(harness.put('a', '2').revision).toBe(3);
    const kv = harness.ok({ type: 'range', key: bytes('a') }, 'range').kvs[0];
    expect(kv).toMatchObject({ createRevision: 2, modRevision: 3, version: 2, lease: 0 });
  });

  it('resets version and create revision after a delete', () => {
    const harness = new Harness();
    harness.put('a', '1');
    harness.put('a', '2');
    const deleted = harness.ok({ type: 'deleteRange', key: bytes('a'), prevKv: true }, 'deleteRange');
    expect(deleted.deleted).toBe(1);
    expect(text(deleted.prevKvs[0]?.value ?? new Uint8Array())).toBe('2');
    expect(harness.machine.revision).toBe(4);
    harness.put('a', '3');
    const kv = harness.ok({ type: 'range', key: bytes('a') }, 'range').kvs[0];
    expect(kv).toMatchObject({ createRevision: 5, modRevision: 5, version: 1 });
  });

  it('does not advance the revision for a delete that matches nothing', () => {
    const harness = new Harness();
    harness.put('a', '1');
    const result = harness.ok({ type: 'deleteRange', key: bytes('zzz') }, 'deleteRange');
    expect(result.deleted).toBe(0);
    expect(harness.machine.revision).toBe(2);
  });

  it('returns the previous key-value on put when asked', () => {
    const harness = new Harness();
    harness.put('a', 'old');
    const result = harness.ok({ type: 'put', key: bytes('a'), value: bytes('new'), prevKv: true }, 'put');
    expect(text(result.prevKv?.value ?? new Uint8Array())).toBe('old');
    expect(result.header.revision).toBe(3);
  });

  it('reads past revisions until they are compacted', () => {
    const harness = new Harness();
    harness.put('a', '1'); // rev 2
    harness.put('a', '2'); // rev 3
    harness.run({ type: 'deleteRange', key: bytes('a') }); // rev 4
    expect(harness.get('a', 2)).toBe('1');
    expect(harness.get('a', 3)).toBe('2');
    expect(harness.get('a', 4)).toBeUndefined();
    harness.ok({ type: 'compact', revision: 3 }, 'compact');
    expect(harness.get('a', 3)).toBe('2');
    const outcome = harness.run({ type: 'range', key: bytes('a'), revision: 2 });
    expect(outcome.result.type === 'error' && outcome.result.error).toBeInstanceOf(CompactedError);
    expect(outcome.result.type === 'error' && (outcome.result.error as CompactedError).compactRevision).toBe(
      3,
    );
    const future = harness.run({ type: 'range', key: bytes('a'), revision: 99 });
    expect(future.result.type === 'error' && future.result.error).toBeInstanceOf(FutureRevisionError);
  });
});

describe('range', () => {
  function seeded(): Harness {
    const harness = new Harness();
    for (const key of ['a', 'ab', 'abc', 'b', 'c']) harness.put(key, `v-${key}`);
    return harness;
  }
  const keys = (result: { kvs: readonly { key: Uint8Array }[] }): string[] =>
    result.kvs.map((kv) => text(kv.key));

  it('selects [key, rangeEnd), a prefix, and every key >= key with "\\0"', () => {
    const harness = seeded();
    expect(keys(harness.ok({ type: 'range', key: bytes('a'), rangeEnd: bytes('b') }, 'range'))).toEqual([
      'a',
      'ab',
      'abc',
    ]);
    expect(keys(harness.ok({ type: 'range', key: bytes('ab'), prefix: true }, 'range'))).toEqual([
      'ab',
      'abc',
    ]);
    expect(
      keys(harness.ok({ type: 'range', key: bytes('b'), rangeEnd: new Uint8Array([0]) }, 'range')),
    ).toEqual(['b', 'c']);
    expect(
      keys(harness.ok({ type: 'range', key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) }, 'range')),
    ).toEqual(['a', 'ab', 'abc', 'b', 'c']);
  });

  it('applies limit with count and more, count-only and keys-only', () => {
    const harness = seeded();
    const limited = harness.ok({ type: 'range', key: bytes('a'), prefix: true, limit: 2 }, 'range');
    expect(keys(limited)).toEqual(['a', 'ab']);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(3);
    const counted = harness.ok(
      { type: 'range', key: bytes('a'), rangeEnd: bytes('z'), countOnly: true },
      'range',
    );
    expect(counted.kvs).toEqual([]);
    expect(counted.count).toBe(5);
    const keysOnly = harness.ok({ type: 'range', key: bytes('a'), keysOnly: true }, 'range');
    expect(keysOnly.kvs[0]?.value.length).toBe(0);
  });

  it('sorts by a target in either order before the limit', () => {
    const harness = seeded();
    harness.put('a', 'zzz'); // a now has the highest mod revision and value
    const descendingKeys = harness.ok(
      { type: 'range', key: bytes('a'), rangeEnd: bytes('z'), sortOrder: 'descend', limit: 2 },
      'range',
    );
    expect(keys(descendingKeys)).toEqual(['c', 'b']);
    const byMod = harness.ok(
      {
        type: 'range',
        key: bytes('a'),
        rangeEnd: bytes('z'),
        sortOrder: 'descend',
        sortTarget: 'mod',
        limit: 1,
      },
      'range',
    );
    expect(keys(byMod)).toEqual(['a']);
    const byValueDefaultOrder = harness.ok(
      { type: 'range', key: bytes('a'), rangeEnd: bytes('z'), sortTarget: 'value' },
      'range',
    );
    expect(keys(byValueDefaultOrder)).toEqual(['ab', 'abc', 'b', 'c', 'a']);
  });

  it('filters on mod and create revisions', () => {
    const harness = seeded(); // a=2 ab=3 abc=4 b=5 c=6
    const result = harness.ok(
      { type: 'range', key: bytes('a'), rangeEnd: bytes('z'), minModRevision: 3, maxCreateRevision: 5 },
      'range',
    );
    expect(keys(result)).toEqual(['ab', 'abc', 'b']);
  });

  it('rejects an empty key, a range end before the key, and prefix with range end', () => {
    const harness = seeded();
    expect(harness.error({ type: 'range', key: new Uint8Array() })).toBe('KV_EMPTY_KEY');
    expect(harness.error({ type: 'range', key: bytes('b'), rangeEnd: bytes('a') })).toBe('KV_INVALID_RANGE');
    expect(harness.error({ type: 'range', key: bytes('b'), rangeEnd: bytes('c'), prefix: true })).toBe(
      'KV_INVALID_REQUEST',
    );
    expect(harness.error({ type: 'put', key: new Uint8Array(), value: bytes('x') })).toBe('KV_EMPTY_KEY');
  });

  it('serves local reads through range() with typed errors thrown', () => {
    const harness = seeded();
    expect(harness.machine.range({ type: 'range', key: bytes('b') }).kvs.length).toBe(1);
    expect(() => harness.machine.range({ type: 'range', key: bytes('b'), revision: 1000 })).toThrow(
      FutureRevisionError,
    );
  });
});

describe('put options', () => {
  it('keeps the value or lease with ignoreValue / ignoreLease, and needs the key to exist', () => {
    const harness = new Harness();
    const lease = harness.ok({ type: 'leaseGrant', id: 7, ttlSeconds: 10 }, 'leaseGrant');
    harness.put('a', 'value', lease.id);
    harness.ok({ type: 'put', key: bytes('a'), value: new Uint8Array(), ignoreValue: true }, 'put');
    const kv = harness.ok({ type: 'range', key: bytes('a') }, 'range').kvs[0];
    expect(text(kv?.value ?? new Uint8Array())).toBe('value');
    expect(kv?.lease).toBe(0);
    harness.ok({ type: 'put', key: bytes('a'), value: bytes('next'), ignoreLease: true }, 'put');
    expect(
      harness.error({ type: 'put', key: bytes('missing'), value: new Uint8Array(), ignoreValue: true }),
    ).toBe('KV_KEY_NOT_FOUND');
    expect(harness.error({ type: 'put', key: bytes('a'), value: bytes('x'), ignoreValue: true })).toBe(
      'KV_INVALID_REQUEST',
    );
    expect(
      harness.error({ type: 'put', key: bytes('a'), value: bytes('x'), lease: 7, ignoreLease: true }),
    ).toBe('KV_INVALID_REQUEST');
  });

  it('refuses an unknown lease', () => {
    const harness = new Harness();
    expect(harness.error({ type: 'put', key: bytes('a'), value: bytes('x'), lease: 42 })).toBe(
      'KV_LEASE_NOT_FOUND',
    );
    expect(harness.machine.revision).toBe(1);
  });

  it('refuses a command larger than MAX_REQUEST_BYTES', () => {
    const machine = new KvStateMachine();
    const outcome = machine.apply(1, new Uint8Array(MAX_REQUEST_BYTES + 1));
    expect(outcome.result.type === 'error' && outcome.result.error.code).toBe('KV_REQUEST_TOO_LARGE');
  });

  it('answers garbage bytes with a codec error without changing state', () => {
    const machine = new KvStateMachine();
    const outcome = machine.apply(1, new Uint8Array([1, 99, 0]));
    expect(outcome.result.type === 'error' && outcome.result.error.code).toBe('KV_CODEC');
    expect(machine.revision).toBe(1);
    expect(machine.appliedIndex).toBe(1);
  });
});

describe('txn', () => {
  const put = (key: string, value: string): RequestOp => ({
    type: 'put',
    key: bytes(key),
    value: bytes(value),
  });

  it('runs the success branch when every compare holds, at one revision', () => {
    const harness = new Harness();
    harness.put('a', '1');
    const result = harness.ok(
      {
        type: 'txn',
        compare: [
          { key: bytes('a'), target: 'value', result: 'equal', value: bytes('1') },
          { key: bytes('a'), target: 'version', result: 'equal', number: 1 },
          { key: bytes('a'), target: 'mod', result: 'greater', number: 1 },
          { key: bytes('a'), target: 'create', result: 'less', number: 3 },
          { key: bytes('a'), target: 'lease', result: 'equal', number: 0 },
        ],
        success: [put('b', '2'), put('c', '3'), { type: 'range', key: bytes('b') }],
        failure: [put('d', '4')],
      },
      'txn',
    );
    expect(result.succeeded).toBe(true);
    expect(result.header.revision).toBe(3);
    const read = result.responses[2];
    expect(read?.type === 'range' && text(read.kvs[0]?.value ?? new Uint8Array())).toBe('2');
    const b = harness.ok({ type: 'range', key: bytes('b') }, 'range').kvs[0];
    const c = harness.ok({ type: 'range', key: bytes('c') }, 'range').kvs[0];
    expect(b?.modRevision).toBe(3);
    expect(c?.modRevision).toBe(3);
    expect(harness.get('d')).toBeUndefined();
  });

  it('runs the failure branch otherwise; a value compare on a missing key fails; notEqual', () => {
    const harness = new Harness();
    const result = harness.ok(
      {
        type: 'txn',
        compare: [{ key: bytes('missing'), target: 'value', result: 'notEqual', value: bytes('x') }],
        success: [put('s', '1')],
        failure: [put('f', '1')],
      },
      'txn',
    );
    expect(result.succeeded).toBe(false);
    expect(harness.get('f')).toBe('1');
    const versionZero = harness.ok(
      {
        type: 'txn',
        compare: [{ key: bytes('missing'), target: 'version', result: 'equal', number: 0 }],
        success: [put('s', '1')],
        failure: [],
      },
      'txn',
    );
    expect(versionZero.succeeded).toBe(true);
  });

  it('does not advance the revision for a read-only txn', () => {
    const harness = new Harness();
    harness.ok(
      { type: 'txn', compare: [], success: [{ type: 'range', key: bytes('a') }], failure: [] },
      'txn',
    );
    expect(harness.machine.revision).toBe(1);
  });

  it('runs nested txns and rolls everything back when a nested op fails', () => {
    const harness = new Harness();
    const nested = harness.ok(
      {
        type: 'txn',
        compare: [],
        success: [
          put('a', '1'),
          {
            type: 'txn',
            compare: [{ key: bytes('a'), target: 'version', result: 'equal', number: 1 }],
            success: [put('b', '2')],
            failure: [],
          },
        ],
        failure: [],
      },
      'txn',
    );
    const inner = nested.responses[1];
    expect(inner?.type === 'txn' && inner.succeeded).toBe(true);
    expect(harness.get('b')).toBe('2');
    const before = harness.machine.snapshot();
    expect(
      harness.error({
        type: 'txn',
        compare: [],
        success: [put('x', '1'), { type: 'put', key: bytes('y'), value: bytes('1'), lease: 99 }],
        failure: [],
      }),
    ).toBe('KV_LEASE_NOT_FOUND');
    expect(harness.get('x')).toBeUndefined();
    // Only the applied index differs: a rejected command still consumes its log entry.
    const after = harness.machine.snapshot();
    expect(after.length).toBe(before.length);
  });

  it('refuses the same key twice, a put inside a deleted range, and too many operations', () => {
    const harness = new Harness();
    expect(
      harness.error({ type: 'txn', compare: [], success: [put('a', '1'), put('a', '2')], failure: [] }),
    ).toBe('KV_DUPLICATE_KEY');
    expect(
      harness.error({
        type: 'txn',
        compare: [],
        success: [put('ab', '1'), { type: 'deleteRange', key: bytes('a'), prefix: true }],
        failure: [],
      }),
    ).toBe('KV_DUPLICATE_KEY');
    expect(
      harness.error({
        type: 'txn',
        compare: [],
        success: [put('a', '1'), { type: 'txn', compare: [], success: [], failure: [put('a', '2')] }],
        failure: [],
      }),
    ).toBe('KV_DUPLICATE_KEY');
    const branchesMayShare = harness.ok(
      {
        type: 'txn',
        compare: [],
        success: [{ type: 'txn', compare: [], success: [put('a', '1')], failure: [put('a', '2')] }],
        failure: [],
      },
      'txn',
    );
    expect(branchesMayShare.succeeded).toBe(true);
    const many = Array.from({ length: MAX_TXN_OPERATIONS + 1 }, (_, index) => put(`k${index}`, 'v'));
    expect(harness.error({ type: 'txn', compare: [], success: many, failure: [] })).toBe(
      'KV_TOO_MANY_OPERATIONS',
    );
    expect(
      harness.ok({ type: 'txn', compare: [], success: many.slice(0, MAX_TXN_OPERATIONS), failure: [] }, 'txn')
        .succeeded,
    ).toBe(true);
  });

  it('compares over a range: every key must satisfy', () => {
    const harness = new Harness();
    harness.put('a1', 'x');
    harness.put('a2', 'x');
    harness.put('a2', 'y');
    const compare = (number: number) => ({
      type: 'txn' as const,
      compare: [
        {
          key: bytes('a'),
          rangeEnd: bytes('b'),
          target: 'version' as const,
          result: 'less' as const,
          number,
        },
      ],
      success: [],
      failure: [],
    });
    expect(harness.ok(compare(2), 'txn').succeeded).toBe(false);
    expect(harness.ok(compare(3), 'txn').succeeded).toBe(true);
  });
});

describe('compact', () => {
  it('refuses a future or already compacted revision', () => {
    const harness = new Harness();
    harness.put('a', '1');
    expect(harness.error({ type: 'compact', revision: 10 })).toBe('KV_FUTURE_REVISION');
    harness.ok({ type: 'compact', revision: 2 }, 'compact');
    expect(harness.error({ type: 'compact', revision: 2 })).toBe('KV_COMPACTED');
    expect(harness.machine.compactRevision).toBe(2);
  });

  it('drops deleted keys from the index once compacted past their tombstone', () => {
    const harness = new Harness();
    harness.put('a', '1');
    harness.put('b', '1');
    harness.run({ type: 'deleteRange', key: bytes('a') }); // rev 4
    harness.put('c', '1'); // rev 5
    expect(harness.machine.indexedKeyCount).toBe(3);
    harness.ok({ type: 'compact', revision: 4 }, 'compact');
    expect(harness.machine.indexedKeyCount).toBe(3); // the tombstone at the compact revision stays
    harness.ok({ type: 'compact', revision: 5 }, 'compact');
    expect(harness.machine.indexedKeyCount).toBe(2);
    expect(harness.get('b', 5)).toBe('1');
  });
});

describe('leases', () => {
  it('grants with a chosen or automatic id and raises short TTLs to the minimum', () => {
    const harness = new Harness(new KvStateMachine({ minLeaseTtlSeconds: 5 }));
    const chosen = harness.ok({ type: 'leaseGrant', id: 100, ttlSeconds: 60 }, 'leaseGrant');
    expect(chosen).toMatchObject({ id: 100, ttlSeconds: 60 });
    const automatic = harness.ok({ type: 'leaseGrant', id: 0, ttlSeconds: 1 }, 'leaseGrant');
    expect(automatic.id).toBe(1);
    expect(automatic.ttlSeconds).toBe(5);
    expect(harness.error({ type: 'leaseGrant', id: 100, ttlSeconds: 60 })).toBe('KV_LEASE_EXISTS');
    expect(harness.error({ type: 'leaseGrant', id: 0, ttlSeconds: 9_000_000_001 })).toBe(
      'KV_LEASE_TTL_TOO_LARGE',
    );
    expect(harness.machine.leaseList()).toEqual([
      { id: 1, ttlSeconds: 5 },
      { id: 100, ttlSeconds: 60 },
    ]);
  });

  it('revokes by deleting every attached key in one revision', () => {
    const harness = new Harness();
    harness.ok({ type: 'leaseGrant', id: 9, ttlSeconds: 30 }, 'leaseGrant');
    harness.put('b', '1', 9);
    harness.put('a', '1', 9);
    harness.put('c', '1');
    harness.put('moved', '1', 9);
    harness.put('moved', '2'); // detached from the lease
    expect(harness.machine.leaseTimeToLive(9, true).keys.map(text)).toEqual(['a', 'b']);
    const before = harness.machine.revision;
    const outcome = harness.run({ type: 'leaseRevoke', id: 9 });
    expect(outcome.result.type).toBe('leaseRevoke');
    expect(harness.machine.revision).toBe(before + 1);
    expect(outcome.events.map((event) => [event.type, text(event.kv.key)])).toEqual([
      ['delete', 'a'],
      ['delete', 'b'],
    ]);
    expect(outcome.leases.revoked).toEqual([9]);
    expect(harness.get('a')).toBeUndefined();
    expect(harness.get('c')).toBe('1');
    expect(harness.get('moved')).toBe('2');
    expect(harness.error({ type: 'leaseRevoke', id: 9 })).toBe('KV_LEASE_NOT_FOUND');
    expect(() => harness.machine.leaseTimeToLive(9)).toThrow('lease 9 not found');
  });

  it('detaches a key from its lease when the key is deleted', () => {
    const harness = new Harness();
    harness.ok({ type: 'leaseGrant', id: 3, ttlSeconds: 30 }, 'leaseGrant');
    harness.put('a', '1', 3);
    harness.run({ type: 'deleteRange', key: bytes('a') });
    expect(harness.machine.leaseTimeToLive(3, true).keys).toEqual([]);
  });
});

describe('apply index', () => {
  it('rejects an index that does not move forward (programmer error)', () => {
    const machine = new KvStateMachine();
    machine.skip(5);
    expect(() => machine.skip(5)).toThrow('not after the applied index');
    expect(machine.appliedIndex).toBe(5);
  });
});
