import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvStateMachine, type RequestOp, utf8, WatchHub, type WatchResponse } from '../../../src/kv/index.js';

const key = fc.constantFrom('a', 'b', 'c', 'd');
const op: fc.Arbitrary<RequestOp> = fc.oneof(
  fc.record({
    type: fc.constant('put' as const),
    key: key.map(utf8),
    value: fc.string({ maxLength: 3 }).map(utf8),
  }),
  fc.record({ type: fc.constant('deleteRange' as const), key: key.map(utf8) }),
  fc.uniqueArray(key, { minLength: 1, maxLength: 3 }).map(
    (keys): RequestOp => ({
      type: 'txn',
      compare: [],
      success: keys.map((name) => ({ type: 'put' as const, key: utf8(name), value: utf8('t') })),
      failure: [],
    }),
  ),
);

const flatten = (responses: readonly WatchResponse[]) =>
  responses.flatMap((response) =>
    response.events.map((event) => ({
      type: event.type,
      key: [...event.kv.key],
      value: [...event.kv.value],
      modRevision: event.kv.modRevision,
      version: event.kv.version,
      previous: event.prevKv === undefined ? null : [...event.prevKv.value],
    })),
  );

describe('watch history', () => {
  it('a watcher replaying from the past sees exactly what a live watcher saw', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.integer({ min: 0, max: 10 }), (ops, compactBack) => {
        const machine = new KvStateMachine();
        const hub = new WatchHub(machine, { bufferEvents: 10_000 });
        const live = hub.watch({ key: utf8('b'), rangeEnd: new Uint8Array([0]), prevKv: true });
        ops.forEach((request, index) => {
          const outcome = machine.applyCommand(index + 1, request);
          hub.publish(outcome.events, outcome.revision);
        });
        const liveEvents = flatten(live.drain());
        const small = new WatchHub(machine, { bufferEvents: 3, catchUpBatchEvents: 2 });
        const replay = small.watch({
          key: utf8('b'),
          rangeEnd: new Uint8Array([0]),
          prevKv: true,
          startRevision: 1,
        });
        expect(flatten(replay.drain())).toEqual(liveEvents);
        // After compaction, a replay from the compact revision sees the live suffix from there on.
        const compactTo = Math.max(2, machine.revision - compactBack);
        if (compactTo <= machine.revision) {
          machine.applyCommand(ops.length + 1, { type: 'compact', revision: compactTo });
          const after = small.watch({
            key: utf8('b'),
            rangeEnd: new Uint8Array([0]),
            prevKv: true,
            startRevision: compactTo,
          });
          // The value an event at the compact revision replaced is compacted, so it has no prevKv.
          const expected = liveEvents
            .filter((event) => event.modRevision >= compactTo)
            .map((event) => (event.modRevision === compactTo ? { ...event, previous: null } : event));
          expect(flatten(after.drain())).toEqual(expected);
          const tooOld = small.watch({ key: utf8('b'), startRevision: compactTo - 1 });
          expect(tooOld.drain().at(-1)?.compactRevision).toBe(compactTo);
        }
      }),
      { numRuns: 150 },
    );
  });
});
