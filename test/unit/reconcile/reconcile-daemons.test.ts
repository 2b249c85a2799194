import { describe, expect, it } from 'vitest';
import { CRASH_LOOP_COOLDOWN_MS, STOP_DAEMON_GRACE_MS } from '../../../src/reconcile/index.js';
import {
  actionsOf,
  desiredOf,
  NOW,
  nodes,
  observedNode,
  observedOf,
  pass,
  running,
} from '../../support/reconcile/builders.js';

const counter = (members: number) => desiredOf({ daemons: [{ name: 'counter', members }] });

describe('reconcile: daemons', () => {
  it('starts the asked-for members on distinct nodes, least loaded first and spread over zones', () => {
    const observed = observedOf({
      nodes: [
        observedNode(1, { zone: 'a', daemons: [running('other')] }),
        observedNode(2, { zone: 'a' }),
        observedNode(3, { zone: 'a', load: 0.5 }),
        observedNode(4, { zone: 'b', load: 0.9 }),
      ],
    });
    const result = pass(
      observed,
      desiredOf({
        daemons: [
          { name: 'counter', members: 2 },
          { name: 'other', members: 1 },
        ],
      }),
    );
    expect(actionsOf(result)).toEqual([
      { kind: 'StartDaemon', daemon: 'counter', node: 2 },
      // Node 3 is next by load, but zone b has no member yet.
      { kind: 'StartDaemon', daemon: 'counter', node: 4 },
    ]);
  });

  it('places nothing on a suspect, avoided, maintenance or full node, and says why when no node is left', () => {
    const observed = observedOf({
      nodes: [
        observedNode(1, { health: 'suspect' }),
        observedNode(2),
        observedNode(3, { maintenance: { phase: 'Maintenance' } }),
        observedNode(4, { capacity: { daemons: 0, chains: 10 } }),
        observedNode(5, { health: 'down', downSinceWallMs: NOW.wallMs }),
      ],
      avoid: [{ node: 2, reason: 'operator', untilWallMs: NOW.wallMs + 1 }],
    });
    const result = pass(observed, counter(1));
    expect(result.actions).toEqual([]);
    expect(result.blocked).toEqual([
      { subject: 'daemon/counter', reason: '1 members asked for, 0 placed: no placeable node with room' },
    ]);
    // Once the avoid entry expired, node 2 takes it.
    const later = pass(observed, counter(1), { monotonicMs: NOW.monotonicMs + 1, wallMs: NOW.wallMs + 1 });
    expect(actionsOf(later)).toEqual([{ kind: 'StartDaemon', daemon: 'counter', node: 2 }]);
  });

  it("replaces a down node's member elsewhere and sends nothing to the down node", () => {
    const observed = observedOf({
      nodes: [
        observedNode(1, { health: 'down', downSinceWallMs: NOW.wallMs, daemons: [running('counter')] }),
        observedNode(2),
      ],
    });
    expect(actionsOf(pass(observed, counter(1)))).toEqual([
      { kind: 'StartDaemon', daemon: 'counter', node: 2 },
    ]);
  });

  it('stops extra members (one not running first) and members of daemons nobody asked for, with a deadline', () => {
    const crashed = { name: 'counter', running: false, crashTimesWallMs: [NOW.wallMs - 100] };
    const observed = observedOf({
      nodes: [
        observedNode(1, { daemons: [running('counter')] }),
        observedNode(2, { daemons: [crashed, running('gone')] }),
        observedNode(3, { daemons: [running('counter')] }),
      ],
    });
    expect(actionsOf(pass(observed, counter(2)))).toEqual([
      {
        kind: 'StopDaemon',
        daemon: 'counter',
        node: 2,
        reason: '3 members run, 2 asked for',
        deadlineMonotonicMs: NOW.monotonicMs + STOP_DAEMON_GRACE_MS,
      },
      {
        kind: 'StopDaemon',
        daemon: 'gone',
        node: 2,
        reason: 'not in the desired state',
        deadlineMonotonicMs: NOW.monotonicMs + STOP_DAEMON_GRACE_MS,
      },
    ]);
  });

  it('stops the serving member (the active) last among the extras', () => {
    const observed = observedOf({
      nodes: [
        observedNode(1, { daemons: [running('counter')] }),
        observedNode(2, { daemons: [running('counter')] }),
        observedNode(3, { daemons: [{ ...running('counter'), serving: true }] }),
      ],
    });
    expect(actionsOf(pass(observed, counter(1))).map((action) => 'node' in action && action.node)).toEqual([
      2, 1,
    ]);
  });

  it('backs a crashed member off before restarting it on its node', () => {
    const crashedAt = NOW.wallMs - 100;
    const crashed = { name: 'counter', running: false, crashTimesWallMs: [crashedAt] };
    const observed = observedOf({ nodes: [observedNode(1, { daemons: [crashed] }), observedNode(2)] });
    expect(actionsOf(pass(observed, counter(1)))).toEqual([
      { kind: 'ApplyBackoff', daemon: 'counter', node: 1, untilMonotonicMs: NOW.monotonicMs + 400 },
    ]);
    const committed = { ...crashed, backoffUntilWallMs: crashedAt + 500 };
    const backingOff = observedOf({ nodes: [observedNode(1, { daemons: [committed] }), observedNode(2)] });
    expect(pass(backingOff, counter(1)).actions).toEqual([]);
    const later = { monotonicMs: NOW.monotonicMs + 400, wallMs: NOW.wallMs + 400 };
    expect(actionsOf(pass(backingOff, counter(1), later))).toEqual([
      { kind: 'StartDaemon', daemon: 'counter', node: 1 },
    ]);
  });

  it('cools a crash-looping member down for 5 minutes from its last crash, then restarts it', () => {
    const last = NOW.wallMs;
    const crashes = [last - 4_000, last - 3_000, last - 2_000, last - 1_000, last];
    const looping = { name: 'counter', running: false, crashTimesWallMs: crashes };
    expect(
      actionsOf(pass(observedOf({ nodes: [observedNode(1, { daemons: [looping] })] }), counter(1))),
    ).toEqual([
      {
        kind: 'ApplyBackoff',
        daemon: 'counter',
        node: 1,
        untilMonotonicMs: NOW.monotonicMs + CRASH_LOOP_COOLDOWN_MS,
      },
    ]);
    const cooling = { ...looping, backoffUntilWallMs: last + CRASH_LOOP_COOLDOWN_MS };
    const observed = observedOf({ nodes: [observedNode(1, { daemons: [cooling] })] });
    const twoMinutesLater = { monotonicMs: NOW.monotonicMs + 120_000, wallMs: NOW.wallMs + 120_000 };
    expect(pass(observed, counter(1), twoMinutesLater).actions).toEqual([]);
    const cooledDown = {
      monotonicMs: NOW.monotonicMs + CRASH_LOOP_COOLDOWN_MS,
      wallMs: NOW.wallMs + CRASH_LOOP_COOLDOWN_MS,
    };
    expect(actionsOf(pass(observed, counter(1), cooledDown))).toEqual([
      { kind: 'StartDaemon', daemon: 'counter', node: 1 },
    ]);
  });

  it('emits ids from the allocator and the pass time', () => {
    const result = pass(observedOf({ nodes: nodes(3) }), counter(3));
    expect(result.actions.map((pending) => pending.id)).toEqual([1, 2, 3]);
    expect(result.actions.every((pending) => pending.emittedAtMonotonicMs === NOW.monotonicMs)).toBe(true);
  });
});
