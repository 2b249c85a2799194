import { describe, expect, it } from 'vitest';
import { encodeKvCommand, KvStateMachine, SnapshotCorruptError } from '../../../src/kv/index.js';
import { bytes, Harness, text } from './helpers.js';

function busyHistory(harness: Harness): void {
  harness.ok({ type: 'leaseGrant', id: 5, ttlSeconds: 20 }, 'leaseGrant');
  harness.ok({ type: 'leaseGrant', id: 0, ttlSeconds: 20 }, 'leaseGrant');
  for (let round = 0; round < 30; round++) {
    harness.put(`key-${round % 7}`, `value-${round}`, round % 3 === 0 ? 5 : 0);
    if (round % 5 === 4) harness.run({ type: 'deleteRange', key: bytes(`key-${round % 4}`) });
  }
  harness.ok({ type: 'compact', revision: 12 }, 'compact');
  harness.put('late', 'x', 1);
}

describe('snapshot', () => {
  it('gives byte-identical snapshots on two replicas applying the same encoded commands', () => {
    const recorder = new Harness();
    busyHistory(recorder);
    // Replay what the recorder applied, as bytes, on a second replica.
    const commands: Uint8Array[] = [];
    const replicaA = new KvStateMachine();
    const replicaB = new KvStateMachine();
    const source = new Harness({
      applyCommand: (index: number, command: Parameters<KvStateMachine['applyCommand']>[1]) => {
        const encoded = encodeKvCommand(command);
        commands.push(encoded);
        replicaA.apply(index, encoded);
        return replicaB.apply(index, encoded);
      },
    } as unknown as KvStateMachine);
    busyHistory(source);
    expect(commands.length).toBeGreaterThan(30);
    expect(replicaA.snapshot()).toEqual(replicaB.snapshot());
    expect(replicaA.snapshot()).toEqual(recorder.machine.snapshot());
  });

  it('restores an identical store: data, history, leases, compaction point and applied index', () => {
    const harness = new Harness();
    busyHistory(harness);
    const bytesBefore = harness.machine.snapshot();
    const restored = KvStateMachine.fromSnapshot(bytesBefore);
    expect(restored.snapshot()).toEqual(bytesBefore);
    expect(restored.revision).toBe(harness.machine.revision);
    expect(restored.compactRevision).toBe(12);
    expect(restored.appliedIndex).toBe(harness.machine.appliedIndex);
    expect(restored.leaseList()).toEqual(harness.machine.leaseList());
    expect(restored.leaseTimeToLive(5, true)).toEqual(harness.machine.leaseTimeToLive(5, true));
    const all = {
      type: 'range' as const,
      key: new Uint8Array([0]),
      rangeEnd: new Uint8Array([0]),
      revision: 15,
    };
    expect(restored.range(all)).toEqual(harness.machine.range(all));
    // Both continue identically.
    const outcomeA = harness.machine.applyCommand(1000, { type: 'leaseRevoke', id: 5 });
    const outcomeB = restored.applyCommand(1000, { type: 'leaseRevoke', id: 5 });
    expect(outcomeB.events.map((event) => text(event.kv.key))).toEqual(
      outcomeA.events.map((event) => text(event.kv.key)),
    );
    expect(restored.snapshot()).toEqual(harness.machine.snapshot());
  });

  it('history survives restore for reads at past revisions', () => {
    const harness = new Harness();
    harness.put('a', '1');
    harness.put('a', '2');
    const restored = KvStateMachine.fromSnapshot(harness.machine.snapshot());
    expect(
      text(restored.range({ type: 'range', key: bytes('a'), revision: 2 }).kvs[0]?.value ?? new Uint8Array()),
    ).toBe('1');
  });

  it('detects any flipped bit with a typed error', () => {
    const harness = new Harness();
    busyHistory(harness);
    const snapshot = harness.machine.snapshot();
    for (let offset = 0; offset < snapshot.length; offset += 7) {
      const corrupted = snapshot.slice();
      corrupted[offset] = (corrupted[offset] as number) ^ 0x10;
      expect(() => KvStateMachine.fromSnapshot(corrupted)).toThrow(SnapshotCorruptError);
    }
    expect(() => KvStateMachine.fromSnapshot(snapshot.subarray(0, 3))).toThrow(SnapshotCorruptError);
    expect(() => KvStateMachine.fromSnapshot(snapshot.subarray(0, snapshot.length - 1))).toThrow(
      SnapshotCorruptError,
    );
  });
});
