import { describe, expect, it } from 'vitest';
import { type KvHash, KvStateMachine, type SnapshotStepLimits } from '../../../src/kv/index.js';
import { runToEnd } from '../../../src/lib/index.js';
import { bytes, Harness } from './helpers.js';

function hashKv(machine: KvStateMachine, revision = 0, limits?: SnapshotStepLimits): KvHash {
  return runToEnd(machine.startHashKv(revision, limits));
}

/** Puts, overwrites, deletes, a lease and a txn: `rounds` of them, on `harness`. */
function history(harness: Harness, rounds: number, valueFor = (round: number) => `value-${round}`): void {
  harness.ok({ type: 'leaseGrant', id: 7, ttlSeconds: 30 }, 'leaseGrant');
  for (let round = 0; round < rounds; round++) {
    harness.put(`key-${round % 9}`, valueFor(round), round % 4 === 0 ? 7 : 0);
    if (round % 6 === 5) harness.run({ type: 'deleteRange', key: bytes(`key-${round % 5}`) });
  }
  harness.ok(
    {
      type: 'txn',
      compare: [],
      success: [
        { type: 'put', key: bytes('txn-a'), value: bytes('1'), lease: 0 },
        { type: 'put', key: bytes('txn-b'), value: bytes('2'), lease: 0 },
      ],
      failure: [],
    },
    'txn',
  );
}

describe('HashKV hash', () => {
  it('is equal on replicas that applied the same commands, whatever the step size', () => {
    const left = new Harness();
    const right = new Harness();
    history(left, 60);
    history(right, 60);
    const whole = hashKv(left.machine);
    expect(whole.revision).toBe(left.machine.revision);
    expect(hashKv(right.machine, 0, { keys: 1, bytes: 16 })).toEqual(whole);
    expect(hashKv(right.machine, 0, { keys: 3, bytes: 1_000_000 })).toEqual(whole);
  });

  it('differs when one member holds one different value, and only from that revision on', () => {
    const left = new Harness();
    const right = new Harness();
    history(left, 60);
    history(right, 60, (round) => (round === 40 ? 'changed' : `value-${round}`));
    expect(hashKv(right.machine).hash).not.toBe(hashKv(left.machine).hash);
    // Before the changed put both histories are the same.
    const before = left.machine.revision - 30;
    expect(hashKv(right.machine, before)).toEqual(hashKv(left.machine, before));
  });

  it('hashes up to a revision what a replica stopped at that revision holds', () => {
    const stopped = new Harness();
    history(stopped, 30);
    const goneOn = new Harness();
    history(goneOn, 30);
    const revision = stopped.machine.revision;
    goneOn.put('later', 'x');
    goneOn.run({ type: 'deleteRange', key: bytes('key-1') });
    expect(hashKv(goneOn.machine).hash).not.toBe(hashKv(stopped.machine).hash);
    expect(hashKv(goneOn.machine, revision)).toEqual(hashKv(stopped.machine));
  });

  it('is the same whether compacted history was dropped or is still held by an open snapshot', () => {
    const dropped = new Harness();
    const held = new Harness();
    history(dropped, 60);
    history(held, 60);
    // A snapshot under way on `held` keeps compaction from dropping anything there.
    const snapshot = held.machine.startSnapshot({ keys: 1, bytes: 16 });
    snapshot.step();
    const revision = dropped.machine.revision - 20;
    dropped.ok({ type: 'compact', revision }, 'compact');
    held.ok({ type: 'compact', revision }, 'compact');
    expect(held.machine.storedRecordCount).toBeGreaterThan(dropped.machine.storedRecordCount);
    const hash = hashKv(dropped.machine);
    expect(hash.compactRevision).toBe(revision);
    expect(hashKv(held.machine)).toEqual(hash);
    runToEnd(snapshot);
    expect(hashKv(held.machine)).toEqual(hash);
    // And a replica restored from a snapshot agrees too.
    expect(hashKv(KvStateMachine.fromSnapshot(dropped.machine.snapshot()))).toEqual(hash);
  });

  it('refuses a compacted or a future revision with the etcd errors', () => {
    const harness = new Harness();
    history(harness, 20);
    harness.ok({ type: 'compact', revision: 10 }, 'compact');
    expect(() => harness.machine.startHashKv(10)).toThrow(expect.objectContaining({ code: 'KV_COMPACTED' }));
    expect(() => harness.machine.startHashKv(harness.machine.revision + 1)).toThrow(
      expect.objectContaining({ code: 'KV_FUTURE_REVISION' }),
    );
    expect(hashKv(harness.machine, 11).compactRevision).toBe(10);
  });
});
