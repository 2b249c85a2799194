import { describe, expect, it } from 'vitest';
import {
  encodeKvCommand,
  KvStateMachine,
  SnapshotCorruptError,
  type SnapshotStepLimits,
} from '../../../src/kv/index.js';
import { bytes, Harness, text } from './helpers.js';

/** Restores `snapshot` into `machine` fed `partBytes` at a time, only when it wants bytes; returns the bytes pushed. */
function restoreInParts(
  machine: KvStateMachine,
  snapshot: Uint8Array,
  partBytes: number,
  limits: SnapshotStepLimits,
): number {
  const task = machine.startRestoreFrom(snapshot.length, limits);
  let pushed = 0;
  for (let steps = 1; ; steps++) {
    while (task.wantsBytes) {
      const part = snapshot.subarray(pushed, pushed + partBytes);
      task.push(part);
      pushed += part.byteLength;
    }
    if (task.step()) return pushed;
    expect(steps).toBeLessThan(100_000);
  }
}

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

  it('restores from parts of any size as from the whole snapshot, wanting bytes only when it cannot go on', () => {
    const harness = new Harness();
    busyHistory(harness);
    // A key longer than many parts: its records wait until enough is pushed.
    for (let round = 0; round < 3; round++) harness.put('long', 'v'.repeat(3000 + round), 0);
    const snapshot = harness.machine.snapshot();
    for (const partBytes of [1, 7, 100, 4096, snapshot.length]) {
      const restored = new KvStateMachine();
      const pushed = restoreInParts(restored, snapshot, partBytes, { keys: 3, bytes: 200 });
      expect(pushed).toBe(snapshot.length);
      expect(restored.snapshot()).toEqual(snapshot);
      expect(
        text(restored.range({ type: 'range', key: bytes('long') }).kvs[0]?.value ?? new Uint8Array()),
      ).toBe('v'.repeat(3002));
    }
  });

  it('finds a flipped bit with a typed error when fed in parts too, leaving the state as it was', () => {
    const harness = new Harness();
    busyHistory(harness);
    const snapshot = harness.machine.snapshot();
    for (let offset = 3; offset < snapshot.length; offset += 11) {
      const corrupted = snapshot.slice();
      corrupted[offset] = (corrupted[offset] as number) ^ 0x04;
      const target = new Harness();
      target.put('mine', 'kept');
      const before = target.machine.snapshot();
      expect(() => restoreInParts(target.machine, corrupted, 13, { keys: 2, bytes: 50 })).toThrow(
        SnapshotCorruptError,
      );
      expect(target.machine.snapshot()).toEqual(before);
    }
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
