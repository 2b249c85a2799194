import { describe, expect, it } from 'vitest';
import {
  commandCostBytes,
  exceedsQuota,
  KvStateMachine,
  LEASE_STORED_BYTES,
  RECORD_OVERHEAD_BYTES,
} from '../../../src/kv/index.js';
import { bytes, Harness } from './helpers.js';

const NOSPACE = { type: 'alarm', action: 'activate', memberId: 7, alarm: 'NOSPACE' } as const;
const DISARM = { ...NOSPACE, action: 'deactivate' } as const;

describe('stored bytes', () => {
  it('counts every kept record and lease, and compaction gives the superseded ones back', () => {
    const harness = new Harness();
    expect(harness.machine.storedBytes).toBe(0);
    harness.put('key', 'value');
    const oneRecord = 'key'.length + 'value'.length + RECORD_OVERHEAD_BYTES;
    expect(harness.machine.storedBytes).toBe(oneRecord);
    harness.put('key', 'value');
    harness.put('key', 'value');
    expect(harness.machine.storedBytes).toBe(3 * oneRecord);
    expect(harness.machine.storedRecordCount).toBe(3);
    harness.ok({ type: 'deleteRange', key: bytes('key') }, 'deleteRange');
    const tombstone = 'key'.length + RECORD_OVERHEAD_BYTES;
    expect(harness.machine.storedBytes).toBe(3 * oneRecord + tombstone);
    harness.ok({ type: 'leaseGrant', id: 5, ttlSeconds: 60 }, 'leaseGrant');
    expect(harness.machine.storedBytes).toBe(3 * oneRecord + tombstone + LEASE_STORED_BYTES);
    // Compacting past the tombstone drops the key's whole history.
    harness.put('other', 'x');
    harness.ok({ type: 'compact', revision: harness.machine.revision }, 'compact');
    expect(harness.machine.storedRecordCount).toBe(1);
    expect(harness.machine.storedBytes).toBe('other'.length + 1 + RECORD_OVERHEAD_BYTES + LEASE_STORED_BYTES);
  });

  it('is rebuilt equal from a snapshot, and a failed txn leaves it unchanged', () => {
    const harness = new Harness();
    for (let round = 0; round < 5; round++) harness.put(`k${round % 2}`, 'v'.repeat(round));
    const before = harness.machine.storedBytes;
    harness.run({
      type: 'txn',
      compare: [],
      success: [
        { type: 'put', key: bytes('new'), value: bytes('v') },
        { type: 'put', key: bytes('k0'), value: bytes('v'), lease: 99 },
      ],
      failure: [],
    });
    expect(harness.machine.storedBytes).toBe(before);
    expect(KvStateMachine.fromSnapshot(harness.machine.snapshot()).storedBytes).toBe(before);
  });
});

describe('quota cost of a command', () => {
  it('charges puts, the larger txn branch and lease grants; nothing for reads and removals', () => {
    const put = { type: 'put', key: bytes('ab'), value: bytes('cde') } as const;
    const putCost = 5 + RECORD_OVERHEAD_BYTES;
    expect(commandCostBytes(put)).toBe(putCost);
    expect(commandCostBytes({ type: 'txn', compare: [], success: [put, put], failure: [put] })).toBe(
      2 * putCost,
    );
    expect(commandCostBytes({ type: 'leaseGrant', id: 0, ttlSeconds: 10 })).toBe(LEASE_STORED_BYTES);
    expect(commandCostBytes({ type: 'deleteRange', key: bytes('a') })).toBe(0);
    expect(commandCostBytes({ type: 'compact', revision: 3 })).toBe(0);
    expect(commandCostBytes({ type: 'range', key: bytes('a') })).toBe(0);
    expect(exceedsQuota(1000 - putCost, put, 1000)).toBe(false);
    expect(exceedsQuota(1001 - putCost, put, 1000)).toBe(true);
    expect(exceedsQuota(5000, { type: 'deleteRange', key: bytes('a') }, 1000)).toBe(false);
  });
});

describe('NOSPACE alarm', () => {
  it('refuses puts, txns with puts and lease grants; deletes, reads, compaction and read-only txns run', () => {
    const harness = new Harness();
    harness.put('a', '1');
    harness.put('b', '1');
    expect(harness.ok(NOSPACE, 'alarm').alarms).toEqual([{ memberId: 7, alarm: 'NOSPACE' }]);
    // An alarm belongs to a node: a member id that is no NodeId is refused, and raises nothing.
    for (const memberId of [0, -1, 1.5, 2 ** 53]) {
      expect(harness.error({ ...NOSPACE, memberId })).toBe('KV_INVALID_REQUEST');
    }
    expect(harness.machine.alarms).toEqual([{ memberId: 7, alarm: 'NOSPACE' }]);
    const revision = harness.machine.revision;
    expect(harness.error({ type: 'put', key: bytes('a'), value: bytes('2') })).toBe('KV_NO_SPACE');
    expect(
      harness.error({
        type: 'txn',
        compare: [],
        success: [],
        failure: [{ type: 'put', key: bytes('c'), value: bytes('1') }],
      }),
    ).toBe('KV_NO_SPACE');
    expect(harness.error({ type: 'leaseGrant', id: 0, ttlSeconds: 10 })).toBe('KV_NO_SPACE');
    expect(harness.machine.revision).toBe(revision);
    harness.ok(
      { type: 'txn', compare: [], success: [{ type: 'deleteRange', key: bytes('b') }], failure: [] },
      'txn',
    );
    expect(harness.ok({ type: 'range', key: bytes('a') }, 'range').count).toBe(1);
    harness.ok({ type: 'deleteRange', key: bytes('a') }, 'deleteRange');
    // A tombstone at the compact revision stays (it is still readable history); the rest goes.
    harness.ok({ type: 'compact', revision: harness.machine.revision }, 'compact');
    expect(harness.machine.storedRecordCount).toBe(1);
    expect(harness.machine.storedBytes).toBe('a'.length + RECORD_OVERHEAD_BYTES);
    // Still refused until disarmed, even though the store is nearly empty now.
    expect(harness.error({ type: 'put', key: bytes('a'), value: bytes('2') })).toBe('KV_NO_SPACE');
    expect(harness.ok(DISARM, 'alarm').alarms).toEqual([{ memberId: 7, alarm: 'NOSPACE' }]);
    expect(harness.machine.alarms).toEqual([]);
    harness.put('a', '2');
    expect(harness.ok(DISARM, 'alarm').alarms).toEqual([]);
  });

  it('keeps one alarm per member, ordered by member id, and survives a snapshot', () => {
    const harness = new Harness();
    harness.ok({ ...NOSPACE, memberId: 9 }, 'alarm');
    harness.ok(NOSPACE, 'alarm');
    harness.ok(NOSPACE, 'alarm');
    expect(harness.machine.alarms).toEqual([
      { memberId: 7, alarm: 'NOSPACE' },
      { memberId: 9, alarm: 'NOSPACE' },
    ]);
    const restoredMachine = KvStateMachine.fromSnapshot(harness.machine.snapshot());
    const restored = new Harness(restoredMachine, restoredMachine.appliedIndex);
    expect(restored.machine.alarms).toEqual(harness.machine.alarms);
    expect(restored.error({ type: 'put', key: bytes('a'), value: bytes('1') })).toBe('KV_NO_SPACE');
    restored.ok({ ...DISARM, memberId: 9 }, 'alarm');
    expect(restored.error({ type: 'put', key: bytes('a'), value: bytes('1') })).toBe('KV_NO_SPACE');
    restored.ok(DISARM, 'alarm');
    restored.put('a', '1');
  });
});

describe('compaction in steps', () => {
  it('leaves what one compaction to the same revision leaves, each step walking a bounded number of records', () => {
    const once = new Harness();
    const stepped = new Harness();
    for (let index = 0; index < 300; index++) {
      for (const harness of [once, stepped]) harness.put(`key/${index % 7}`, `value ${index}`);
    }
    const target = once.machine.revision - 20;
    once.ok({ type: 'compact', revision: target }, 'compact');
    const steps: number[] = [];
    while (stepped.machine.compactRevision < target) {
      const step = stepped.machine.compactionStep(target, 25);
      expect(step).toBeGreaterThan(stepped.machine.compactRevision);
      // One put per revision here, so a step of at most 25 records covers at most 25 revisions.
      expect(step - Math.max(stepped.machine.compactRevision, 1)).toBeLessThanOrEqual(26);
      stepped.ok({ type: 'compact', revision: step }, 'compact');
      steps.push(step);
    }
    expect(steps.length).toBeGreaterThanOrEqual(10);
    expect(stepped.machine.storedRecordCount).toBe(once.machine.storedRecordCount);
    expect(stepped.machine.storedBytes).toBe(once.machine.storedBytes);
    const history = (harness: Harness) =>
      harness.machine
        .history({ start: '', end: null, single: false }, target, 1_000)
        .events.map((event) => `${event.key}@${event.revision}`);
    expect(history(stepped)).toEqual(history(once));
    expect(history(once)).toHaveLength(21);
  });
});
