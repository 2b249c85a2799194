import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type KvCommand, KvStateMachine, utf8 } from '../../../src/kv/index.js';
import { ChunkConcatenation, runToEnd } from '../../../src/lib/index.js';

const KEY_SPACE = 30;
/** Small steps, so that a snapshot of a few dozen keys takes many of them. */
const LIMITS = { keys: 3, bytes: 64 };

type Operation =
  | { kind: 'put'; key: number; value: string; leased: boolean }
  | { kind: 'delete'; key: number; end: number }
  | { kind: 'compact'; back: number }
  | { kind: 'grant' }
  | { kind: 'revoke' };

const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      key: fc.nat(KEY_SPACE - 1),
      value: fc.string({ maxLength: 40 }),
      leased: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      key: fc.nat(KEY_SPACE - 1),
      end: fc.nat(4),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('grant' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const) }) },
);

const keyOf = (key: number): Uint8Array => utf8(`key-${String(key).padStart(2, '0')}`);

/** The command an operation stands for on `machine` (leases and revisions as it has them). */
function commandFor(machine: KvStateMachine, operation: Operation): KvCommand {
  const leases = machine.leaseList();
  switch (operation.kind) {
    case 'put': {
      const lease = operation.leased ? (leases.at(-1)?.id ?? 0) : 0;
      return { type: 'put', key: keyOf(operation.key), value: utf8(operation.value), lease };
    }
    case 'delete':
      return operation.end === 0
        ? { type: 'deleteRange', key: keyOf(operation.key) }
        : { type: 'deleteRange', key: keyOf(operation.key), rangeEnd: keyOf(operation.key + operation.end) };
    case 'compact':
      return { type: 'compact', revision: Math.max(1, machine.revision - operation.back) };
    case 'grant':
      return { type: 'leaseGrant', id: 0, ttlSeconds: 30 };
    case 'revoke':
      return { type: 'leaseRevoke', id: leases[0]?.id ?? 1 };
  }
}

function applyAll(machines: readonly KvStateMachine[], operations: readonly Operation[]): void {
  for (const operation of operations) {
    const command = commandFor(machines[0] as KvStateMachine, operation);
    for (const machine of machines) machine.applyCommand(machine.appliedIndex + 1, command);
  }
}

const wholeRange = { type: 'range' as const, key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) };

describe('snapshots taken a step at a time', () => {
  it('encode the state of the moment they started while writes and compactions go on, and restore to it', () => {
    fc.assert(
      fc.property(
        fc.array(operationArbitrary, { minLength: 1, maxLength: 120 }),
        fc.array(operationArbitrary, { maxLength: 120 }),
        fc.array(fc.nat(3), { minLength: 1, maxLength: 20 }),
        (before, during, stepsBetween) => {
          const busy = new KvStateMachine();
          const stopped = new KvStateMachine();
          const untouched = new KvStateMachine();
          applyAll([busy, stopped, untouched], before);
          const encoder = busy.startSnapshot(LIMITS);
          // Writes land between steps, a varying number of steps apart.
          let finished = false;
          for (let position = 0; position < during.length; position++) {
            applyAll([busy, untouched], [during[position] as Operation]);
            const steps = stepsBetween[position % stepsBetween.length] as number;
            for (let step = 0; step < steps && !finished; step++) finished = encoder.step();
          }
          const bytes = runToEnd(new ChunkConcatenation(runToEnd(encoder)));
          const expected = stopped.snapshot();
          expect(bytes).toEqual(expected);

          const restored = new KvStateMachine();
          runToEnd(restored.startRestore(bytes, LIMITS));
          expect(restored.snapshot()).toEqual(expected);
          expect(restored.range(wholeRange)).toEqual(stopped.range(wholeRange));
          expect(restored.leaseList()).toEqual(stopped.leaseList());
          expect(restored.storedBytes).toBe(stopped.storedBytes);
          // Compaction held back during the snapshot leaves what compacting at once left.
          expect(busy.snapshot()).toEqual(untouched.snapshot());
        },
      ),
      { numRuns: 150 },
    );
  });

  it('encode and decode in steps bounded by the limits, and a cancelled snapshot releases compaction', () => {
    const machine = new KvStateMachine();
    const keyCount = 200;
    for (let key = 0; key < keyCount; key++) {
      machine.applyCommand(key + 1, { type: 'put', key: utf8(`key-${key}`), value: utf8('value') });
    }
    const encoder = machine.startSnapshot({ keys: 7, bytes: 1_000_000 });
    let encodeSteps = 1;
    while (!encoder.step()) encodeSteps++;
    // 200 keys, at most 7 per step, then the tail.
    expect(encodeSteps).toBeGreaterThanOrEqual(Math.ceil(keyCount / 7) + 1);
    const bytes = runToEnd(new ChunkConcatenation(encoder.result()));

    const byBytes = machine.startSnapshot({ keys: 1_000, bytes: 100 });
    let byteSteps = 1;
    while (!byBytes.step()) byteSteps++;
    // Each key with its record takes more than 14 bytes, so 100 bytes fit at most seven keys.
    expect(byteSteps).toBeGreaterThanOrEqual(Math.ceil(keyCount / 7) + 1);

    const restore = new KvStateMachine().startRestore(bytes, { keys: 7, bytes: 1_000_000 });
    let decodeSteps = 1;
    while (!restore.step()) decodeSteps++;
    expect(decodeSteps).toBeGreaterThanOrEqual(Math.ceil(keyCount / 7));

    const cancelled = machine.startSnapshot();
    machine.applyCommand(keyCount + 1, { type: 'put', key: utf8('key-0'), value: utf8('newer') });
    machine.applyCommand(keyCount + 2, { type: 'compact', revision: machine.revision });
    cancelled.cancel();
    // The superseded record of key-0 is gone once the snapshot no longer holds it.
    expect(machine.snapshot()).toEqual(compactedTwin(keyCount).snapshot());
  });

  it('leaves the state unchanged when a restore finds the snapshot corrupt', () => {
    const machine = new KvStateMachine();
    machine.applyCommand(1, { type: 'put', key: utf8('kept'), value: utf8('yes') });
    const before = machine.snapshot();
    const other = new KvStateMachine();
    other.applyCommand(1, { type: 'put', key: utf8('other'), value: utf8('no') });
    const corrupt = other.snapshot();
    corrupt.set([(corrupt.at(-6) as number) ^ 0x01], corrupt.length - 6);
    const restore = machine.startRestore(corrupt, { keys: 1, bytes: 16 });
    expect(() => runToEnd(restore)).toThrow(expect.objectContaining({ code: 'KV_SNAPSHOT_CORRUPT' }));
    expect(machine.snapshot()).toEqual(before);
  });
});

/** The store `encode and decode in steps` ends with, built without a snapshot in the way. */
function compactedTwin(keyCount: number): KvStateMachine {
  const machine = new KvStateMachine();
  for (let key = 0; key < keyCount; key++) {
    machine.applyCommand(key + 1, { type: 'put', key: utf8(`key-${key}`), value: utf8('value') });
  }
  machine.applyCommand(keyCount + 1, { type: 'put', key: utf8('key-0'), value: utf8('newer') });
  machine.applyCommand(keyCount + 2, { type: 'compact', revision: machine.revision });
  return machine;
}
