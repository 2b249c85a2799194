import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import {
  ACTION_RETRY_INITIAL_MS,
  ACTION_RETRY_MAX_MS,
  ACTION_RETRY_RESET_MS,
  ActionExecutor,
  type ActionOwner,
  type ActionOwners,
  BACKPRESSURE_OFF_QUEUED_ACTIONS,
  BACKPRESSURE_ON_QUEUED_ACTIONS,
  type ExecutorEvent,
  MAX_DEFERRALS_PER_ACTION,
  MAX_DRAINS_PER_ZONE_PER_WINDOW,
  type PendingAction,
  REPLICA_PULL_COOLDOWN_MS,
  type ReconcileAction,
} from '../../../src/reconcile/index.js';

/** An executor whose owners record what they get and complete it at once (unless told to hold). */
function harness(options: { hold?: boolean } = {}) {
  const handled: { owner: ActionOwner; id: number }[] = [];
  const events: ExecutorEvent[] = [];
  let nowMs = 0;
  const owner = (name: ActionOwner) => ({
    handle(pending: PendingAction) {
      handled.push({ owner: name, id: pending.id });
      if (!options.hold) executor.complete(pending.id, nowMs);
    },
  });
  const owners = Object.fromEntries(
    (['daemons', 'replicas', 'placement', 'blobs', 'avoid-list', 'maintenance'] as const).map((name) => [
      name,
      owner(name),
    ]),
  ) as unknown as ActionOwners;
  const executor = new ActionExecutor({
    owners,
    zoneOf: (node) => (node <= 100 ? 'east' : 'west'),
    onEvent: (event) => events.push(event),
  });
  let nextId = 1;
  const pending = (action: ReconcileAction): PendingAction => ({
    id: nextId++,
    emittedAtMonotonicMs: nowMs,
    action,
  });
  return {
    executor,
    handled,
    events,
    pending,
    /** Drains at `ms`; the owners complete at that time too. */
    drain(ms: number) {
      nowMs = ms;
      executor.drain(ms);
    },
  };
}

/**
 * Submits `action` at `atMs`, drains every 10 ms until an owner got it, and fails it then;
 * answers the time it was dispatched.
 */
function failWhenDispatched(
  tested: ReturnType<typeof harness>,
  action: ReconcileAction,
  atMs: number,
): number {
  const { executor, handled, pending, drain } = tested;
  executor.submit([pending(action)], atMs);
  let tried = atMs;
  drain(tried);
  while (handled.length === 0) {
    tried += 10;
    drain(tried);
  }
  executor.fail(handled.pop()!.id, 'refused', tried);
  return tried;
}

const stop = (node: number, daemon = 'd'): ReconcileAction => ({
  kind: 'StopDaemon',
  daemon,
  node,
  reason: 'test',
  deadlineMonotonicMs: 10_000,
});

describe('action executor', () => {
  it('dispatches every action to the part that owns it, and forgets it once completed', () => {
    const { executor, handled, pending, drain } = harness();
    const actions = [
      pending({ kind: 'StartDaemon', daemon: 'd', node: 1 }),
      pending({ kind: 'PullReplica', chain: 'c', node: 1, source: 2 }),
      pending({ kind: 'RequestEviction', chain: 'c', leader: 2, victim: 3 }),
      pending({ kind: 'ReduceHeat', blob: 'b', by: 3 }),
      pending({ kind: 'MarkAvoid', peer: 4, reason: 'slow', ttlMs: 1_000 }),
      pending({ kind: 'CommitMaintenanceTransition', node: 4, target: { phase: 'Maintenance' } }),
    ];
    expect(executor.submit(actions, 0)).toEqual(['queued', 'queued', 'queued', 'queued', 'queued', 'queued']);
    drain(0);
    expect(handled.map((entry) => entry.owner)).toEqual([
      'daemons',
      'replicas',
      'placement',
      'blobs',
      'avoid-list',
      'maintenance',
    ]);
    expect(executor.pending()).toEqual([]);
    expect(executor.status()).toMatchObject({ queued: 0, inFlight: 0, dispatched: 6, completed: 6 });
  });

  it('holds one action per change: a second asking for the same change is a duplicate, and a repeated report is a no-op', () => {
    const { executor, handled, pending, drain } = harness({ hold: true });
    const first = pending({ kind: 'StartDaemon', daemon: 'd', node: 1 });
    expect(executor.submit([first, pending({ kind: 'StartDaemon', daemon: 'd', node: 1 })], 0)).toEqual([
      'queued',
      'duplicate',
    ]);
    expect(executor.submit([first], 0)).toEqual(['duplicate']);
    drain(0);
    expect(executor.pending()).toEqual([first]);
    expect(executor.complete(first.id, 1)).toBe(true);
    expect(executor.complete(first.id, 2)).toBe(false);
    expect(executor.fail(first.id, 'late', 3)).toBe(false);
    expect(handled).toHaveLength(1);
    expect(executor.status()).toMatchObject({ completed: 1, failed: 0, duplicates: 2 });
  });

  it("defers a chain's second replica pull until the 250 ms cooldown has passed", () => {
    const { executor, handled, events, pending, drain } = harness();
    const pulls = [
      pending({ kind: 'PullReplica', chain: 'c', node: 1, source: 2 }),
      pending({ kind: 'PullReplica', chain: 'c', node: 3, source: 2 }),
      pending({ kind: 'PullReplica', chain: 'other', node: 3, source: 2 }),
    ];
    executor.submit(pulls, 0);
    drain(0);
    expect(handled.map((entry) => entry.id)).toEqual([1, 3]);
    expect(events.find((event) => event.type === 'deferred')).toMatchObject({ id: 2 });
    drain(REPLICA_PULL_COOLDOWN_MS - 1);
    expect(handled).toHaveLength(2);
    drain(REPLICA_PULL_COOLDOWN_MS);
    expect(handled.map((entry) => entry.id)).toEqual([1, 3, 2]);
  });

  it('drains at most 10 per second per zone', () => {
    const { executor, handled, pending, drain } = harness();
    const east = Array.from({ length: 12 }, (_, index) => pending(stop(index + 1)));
    const west = [pending(stop(200))];
    executor.submit([...east, ...west], 0);
    drain(0);
    expect(handled).toHaveLength(MAX_DRAINS_PER_ZONE_PER_WINDOW + 1);
    expect(handled.at(-1)?.id).toBe(13);
    drain(999);
    expect(handled).toHaveLength(MAX_DRAINS_PER_ZONE_PER_WINDOW + 1);
    drain(1_000);
    expect(handled.map((entry) => entry.id).slice(-2)).toEqual([11, 12]);
  });

  it('fails an action deferred 16 times with the reason of its deferrals', () => {
    const { executor, handled, events, pending, drain } = harness();
    const count = MAX_DRAINS_PER_ZONE_PER_WINDOW * MAX_DEFERRALS_PER_ACTION + 3;
    executor.submit(
      Array.from({ length: count }, (_, index) => pending(stop(1, `d${index}`))),
      0,
    );
    for (let window = 0; window <= MAX_DEFERRALS_PER_ACTION; window++) drain(window * 1_000);
    expect(handled).toHaveLength(MAX_DRAINS_PER_ZONE_PER_WINDOW * MAX_DEFERRALS_PER_ACTION);
    const failed = events.filter((event) => event.type === 'failed');
    expect(failed.map((event) => event.id)).toEqual([count - 2, count - 1, count]);
    expect(failed[0]).toMatchObject({
      reason: 'deferred 16 times: zone east drained 10 in 1000 ms (at most 10)',
    });
    expect(executor.pending()).toEqual([]);
  });

  it('gates a daemon start until its backoff ends, without counting it as a deferral', () => {
    const { executor, handled, events, pending, drain } = harness();
    executor.submit([pending({ kind: 'ApplyBackoff', daemon: 'd', node: 1, untilMonotonicMs: 500 })], 0);
    drain(0);
    executor.submit([pending({ kind: 'StartDaemon', daemon: 'd', node: 1 })], 10);
    drain(10);
    expect(events.filter((event) => event.type === 'gated')).toHaveLength(1);
    for (let ms = 20; ms < 500; ms += 10) drain(ms);
    expect(handled).toHaveLength(1);
    expect(executor.status().deferrals).toBe(0);
    drain(500);
    expect(handled.map((entry) => entry.owner)).toEqual(['daemons', 'daemons']);
  });

  it('refuses submissions from 1,000 queued actions until the queue is back at 200', () => {
    const { executor, pending, drain } = harness({ hold: true });
    const actions = Array.from({ length: BACKPRESSURE_ON_QUEUED_ACTIONS }, (_, index) =>
      pending({ kind: 'MarkAvoid', peer: index + 1, reason: 'x', ttlMs: 1 }),
    );
    expect(executor.submit(actions, 0).every((outcome) => outcome === 'queued')).toBe(true);
    expect(executor.status().backpressure).toBe(true);
    expect(executor.submit([pending({ kind: 'ReduceHeat', blob: 'b', by: 1 })], 0)).toEqual(['refused']);
    // The owner holds what it gets until completed here: the queue empties MAX_ACTIONS_IN_FLIGHT at a time.
    const queuedWhileOn: number[] = [];
    for (let ms = 1; executor.status().backpressure; ms++) {
      queuedWhileOn.push(executor.status().queued);
      expect(executor.submit([pending({ kind: 'ReduceHeat', blob: 'b', by: 1 })], ms)).toEqual(['refused']);
      drain(ms);
      for (const entry of executor.pending().slice(0, executor.status().inFlight))
        executor.complete(entry.id, ms);
    }
    expect(queuedWhileOn).toEqual([1_000, 744, 488, 232]);
    expect(queuedWhileOn.every((queued) => queued > BACKPRESSURE_OFF_QUEUED_ACTIONS)).toBe(true);
    expect(executor.status().queued).toBeLessThanOrEqual(BACKPRESSURE_OFF_QUEUED_ACTIONS);
    expect(executor.submit([pending({ kind: 'ReduceHeat', blob: 'b', by: 1 })], 10)).toEqual(['queued']);
  });

  it('fails an action whose owner throws and goes on with the queue', () => {
    const events: ExecutorEvent[] = [];
    const handled: number[] = [];
    const owners = Object.fromEntries(
      (['daemons', 'replicas', 'placement', 'blobs', 'avoid-list', 'maintenance'] as const).map((name) => [
        name,
        {
          handle(pending: PendingAction) {
            if (name === 'blobs') throw new Error('disk full');
            handled.push(pending.id);
            executor.complete(pending.id, 0);
          },
        },
      ]),
    ) as unknown as ActionOwners;
    const executor = new ActionExecutor({
      owners,
      zoneOf: () => 'z',
      onEvent: (event) => events.push(event),
    });
    executor.submit(
      [
        { id: 1, emittedAtMonotonicMs: 0, action: { kind: 'ReduceHeat', blob: 'b', by: 1 } },
        { id: 2, emittedAtMonotonicMs: 0, action: { kind: 'StartDaemon', daemon: 'd', node: 1 } },
      ],
      0,
    );
    executor.drain(0);
    expect(events.find((event) => event.type === 'failed')).toEqual({
      type: 'failed',
      id: 1,
      atMs: 0,
      reason: 'its owner threw: disk full',
    });
    expect(handled).toEqual([2]);
    expect(executor.pending()).toEqual([]);
  });

  it('refuses unknown action ids and time running backwards with typed errors', () => {
    const { executor, pending, drain } = harness();
    executor.submit([pending({ kind: 'ReduceHeat', blob: 'b', by: 1 })], 5);
    const codeOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return isMeshError(error) ? error.code : 'not a MeshError';
      }
      return 'no error';
    };
    expect(codeOf(() => executor.complete(99, 5))).toBe('ACTION_ID_INVALID');
    expect(codeOf(() => executor.fail(0, 'x', 5))).toBe('ACTION_ID_INVALID');
    expect(codeOf(() => drain(4))).toBe('EXECUTOR_TIME_INVALID');
    expect(
      codeOf(() =>
        executor.submit(
          [{ id: 0, emittedAtMonotonicMs: 5, action: { kind: 'ReduceHeat', blob: 'x', by: 1 } }],
          5,
        ),
      ),
    ).toBe('ACTION_ID_INVALID');
    const unknownKind = { kind: 'Reboot', node: 1 } as unknown as ReconcileAction;
    expect(codeOf(() => executor.submit([{ id: 9, emittedAtMonotonicMs: 5, action: unknownKind }], 5))).toBe(
      'ACTION_KIND_INVALID',
    );
  });

  it('holds the same change after a failure for a delay that doubles up to its cap, and forgets it on success', () => {
    const tested = harness({ hold: true });
    const { executor, handled, pending, drain } = tested;
    const action = stop(1);
    const failOnce = (atMs: number): number => failWhenDispatched(tested, action, atMs);
    let failedAt = failOnce(0);
    expect(failedAt).toBe(0);
    const delays: number[] = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      const dispatchedAt = failOnce(failedAt);
      delays.push(dispatchedAt - failedAt);
      failedAt = dispatchedAt;
    }
    const expected = [1, 2, 4, 8, 16, 32, 32].map((factor) =>
      Math.min(ACTION_RETRY_MAX_MS, ACTION_RETRY_INITIAL_MS * factor),
    );
    expect(delays).toEqual(expected);
    // Another change is not held by this one's failures.
    executor.submit([pending(stop(2))], failedAt);
    drain(failedAt);
    expect(handled).toHaveLength(1);
    executor.complete(handled.pop()!.id, failedAt);
    // Success forgets the failures: the next failure waits the initial delay again.
    const succeededAt = failedAt + ACTION_RETRY_MAX_MS;
    executor.submit([pending(action)], succeededAt);
    drain(succeededAt);
    executor.complete(handled.pop()!.id, succeededAt);
    executor.submit([pending(action)], succeededAt);
    drain(succeededAt);
    executor.fail(handled.pop()!.id, 'refused', succeededAt);
    expect(failOnce(succeededAt) - succeededAt).toBe(ACTION_RETRY_INITIAL_MS);
  });

  it('starts the delay over after a failure that comes the reset time after the last', () => {
    const tested = harness({ hold: true });
    const action = stop(1);
    const failOnce = (atMs: number): number => failWhenDispatched(tested, action, atMs);
    let failedAt = 0;
    for (let failure = 0; failure < 6; failure++) failedAt = failOnce(failedAt);
    // Six failures in a row: the next try would wait the cap.
    const again = failedAt + ACTION_RETRY_RESET_MS;
    expect(failOnce(again)).toBe(again);
    expect(failOnce(again) - again).toBe(ACTION_RETRY_INITIAL_MS);
  });
});
