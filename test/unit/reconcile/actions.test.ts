import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../../src/lib/index.js';
import { ActionIds, actionKey, NO_ACTION_ID, toWireRecord } from '../../../src/reconcile/index.js';

describe('actions', () => {
  it('allocates ids from 1 up, never the reserved 0', () => {
    const ids = new ActionIds();
    expect([ids.next(), ids.next(), ids.next()]).toEqual([1, 2, 3]);
    expect(ids.peek()).toBe(4);
    expect(new ActionIds(41).next()).toBe(41);
    expect(() => new ActionIds(NO_ACTION_ID)).toThrow(AssertionError);
  });

  it('keys an action by the change it asks for, so two asks for one change share a key', () => {
    const stop = (reason: string) =>
      actionKey({ kind: 'StopDaemon', daemon: 'd', node: 1, reason, deadlineMonotonicMs: 0 });
    expect(stop('a')).toBe(stop('b'));
    expect(actionKey({ kind: 'StartDaemon', daemon: 'd', node: 1 })).not.toBe(stop('a'));
    expect(actionKey({ kind: 'RequestPlacement', chain: 'c', leader: 1, exclude: [1], target: 2 })).not.toBe(
      actionKey({ kind: 'RequestPlacement', chain: 'c', leader: 1, exclude: [1], target: 3 }),
    );
  });

  it('turns in-process monotonic times into wall-clock ones before an action crosses the wire', () => {
    const time = { monotonicMs: 1_000, wallMs: 1_700_000_000_000 };
    const stop = toWireRecord(
      {
        id: 7,
        emittedAtMonotonicMs: 900,
        action: { kind: 'StopDaemon', daemon: 'd', node: 2, reason: 'drain', deadlineMonotonicMs: 11_000 },
      },
      3,
      time,
    );
    expect(stop).toEqual({
      id: 7,
      emittedBy: 3,
      emittedAtWallMs: 1_699_999_999_900,
      action: {
        kind: 'StopDaemon',
        daemon: 'd',
        node: 2,
        reason: 'drain',
        deadlineWallMs: 1_700_000_010_000,
      },
    });
    const backoff = toWireRecord(
      {
        id: 8,
        emittedAtMonotonicMs: 1_000,
        action: { kind: 'ApplyBackoff', daemon: 'd', node: 2, untilMonotonicMs: 1_500 },
      },
      3,
      time,
    );
    expect(backoff.action).toEqual({
      kind: 'ApplyBackoff',
      daemon: 'd',
      node: 2,
      untilWallMs: 1_700_000_000_500,
    });
    const avoid = toWireRecord(
      {
        id: 9,
        emittedAtMonotonicMs: 1_000,
        action: { kind: 'MarkAvoid', peer: 4, reason: 'slow', ttlMs: 60_000 },
      },
      3,
      time,
    );
    expect(avoid.action).toEqual({ kind: 'MarkAvoid', peer: 4, reason: 'slow', ttlMs: 60_000 });
  });
});
