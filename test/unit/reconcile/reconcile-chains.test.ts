import { describe, expect, it } from 'vitest';
import { DOWN_NODE_GRACE_MS, type ObservedNode } from '../../../src/reconcile/index.js';
import {
  actionsOf,
  desiredOf,
  NOW,
  nodes,
  observedNode,
  observedOf,
  pass,
} from '../../support/reconcile/builders.js';

const orders = (replicas: number) => desiredOf({ chains: [{ name: 'orders', replicas }] });
const holding = (id: number, lagRecords = 0, overrides: Partial<ObservedNode> = {}) =>
  observedNode(id, { replicas: [{ chain: 'orders', lagRecords }], ...overrides });

describe('reconcile: chains', () => {
  it("asks the chain's leader to place the missing replicas on distinct nodes", () => {
    const observed = observedOf({
      nodes: [holding(1), ...nodes(4).slice(1)],
      chains: [{ name: 'orders', members: [1], leader: 1 }],
    });
    expect(actionsOf(pass(observed, orders(3)))).toEqual([
      { kind: 'RequestPlacement', chain: 'orders', leader: 1, exclude: [1], target: 2 },
      { kind: 'RequestPlacement', chain: 'orders', leader: 1, exclude: [1, 2], target: 3 },
      // The new members pull from the leader in the same pass.
      { kind: 'PullReplica', chain: 'orders', node: 2, source: 1 },
      { kind: 'PullReplica', chain: 'orders', node: 3, source: 1 },
    ]);
  });

  it('changes no membership without a live leader: only the leader emits placements and evictions', () => {
    const observed = observedOf({
      nodes: [holding(1, 0, { health: 'down', downSinceWallMs: NOW.wallMs }), holding(2), observedNode(3)],
      chains: [{ name: 'orders', members: [1, 2], leader: 1 }],
    });
    const result = pass(observed, orders(3));
    expect(result.actions).toEqual([]);
    expect(result.blocked).toEqual([
      { subject: 'chain/orders', reason: 'no live leader: membership waits for the chain to elect one' },
    ]);
  });

  it('pulls a lost replica from the leader and drops a replica its node is no member for', () => {
    const observed = observedOf({
      nodes: [holding(1), observedNode(2), holding(3, 7)],
      chains: [{ name: 'orders', members: [1, 2], leader: 1 }],
    });
    expect(actionsOf(pass(observed, orders(2)))).toEqual([
      { kind: 'DropReplica', chain: 'orders', node: 3 },
      { kind: 'PullReplica', chain: 'orders', node: 2, source: 1 },
    ]);
  });

  it("replaces a down node's replica only after the grace period, and evicts it only once the replacement caught up", () => {
    const chain = { name: 'orders', members: [1, 2, 3], leader: 1 };
    const down = (since: number) => holding(3, 0, { health: 'down', downSinceWallMs: since });
    const withinGrace = observedOf({
      nodes: [holding(1), holding(2), down(NOW.wallMs - 1_000), observedNode(4)],
      chains: [chain],
    });
    expect(pass(withinGrace, orders(3)).actions).toEqual([]);
    const pastGrace = NOW.wallMs - DOWN_NODE_GRACE_MS;
    const gone = observedOf({
      nodes: [holding(1), holding(2), down(pastGrace), observedNode(4)],
      chains: [chain],
    });
    expect(actionsOf(pass(gone, orders(3)))).toEqual([
      { kind: 'RequestPlacement', chain: 'orders', leader: 1, exclude: [1, 2, 3], target: 4 },
      { kind: 'PullReplica', chain: 'orders', node: 4, source: 1 },
    ]);
    const replacing = { ...chain, members: [1, 2, 3, 4] };
    const pulling = observedOf({
      nodes: [holding(1), holding(2), down(pastGrace), holding(4, 12)],
      chains: [replacing],
    });
    expect(pass(pulling, orders(3)).actions).toEqual([]);
    const caughtUp = observedOf({
      nodes: [holding(1), holding(2), down(pastGrace), holding(4)],
      chains: [replacing],
    });
    expect(actionsOf(pass(caughtUp, orders(3)))).toEqual([
      { kind: 'RequestEviction', chain: 'orders', leader: 1, victim: 3 },
    ]);
  });

  it('evicts an extra member that is behind before one that caught up, and never the leader', () => {
    const observed = observedOf({
      nodes: [holding(1), holding(2), holding(3, 4)],
      chains: [{ name: 'orders', members: [1, 2, 3], leader: 1 }],
    });
    expect(actionsOf(pass(observed, orders(2)))).toEqual([
      { kind: 'RequestEviction', chain: 'orders', leader: 1, victim: 3 },
      // The victim drops its copy once it is no member (enough caught-up copies stay either way).
      { kind: 'DropReplica', chain: 'orders', node: 3 },
    ]);
    const leaderOnly = observedOf({
      nodes: [holding(1), holding(2)],
      chains: [{ name: 'orders', members: [1, 2], leader: 1 }],
    });
    expect(actionsOf(pass(leaderOnly, orders(1)))).toEqual([
      { kind: 'RequestEviction', chain: 'orders', leader: 1, victim: 2 },
      { kind: 'DropReplica', chain: 'orders', node: 2 },
    ]);
  });

  it('never evicts below the caught-up copies asked for', () => {
    const observed = observedOf({
      nodes: [holding(1), holding(2, 3), holding(3, 3)],
      chains: [{ name: 'orders', members: [1, 2, 3], leader: 1 }],
    });
    // Both extras are behind: evicting them keeps the one caught-up copy asked for.
    expect(actionsOf(pass(observed, orders(1))).map((action) => action.kind)).toEqual([
      'RequestEviction',
      'RequestEviction',
      'DropReplica',
      'DropReplica',
    ]);
    const twoCaughtUp = observedOf({
      nodes: [holding(1), holding(2), holding(3)],
      chains: [{ name: 'orders', members: [1, 2, 3], leader: 1 }],
    });
    // Three caught up, two asked for: one goes, not two.
    expect(
      actionsOf(pass(twoCaughtUp, orders(2))).filter((action) => action.kind === 'RequestEviction'),
    ).toEqual([{ kind: 'RequestEviction', chain: 'orders', leader: 1, victim: 3 }]);
    const drainingLeader = observedOf({
      nodes: [
        holding(1, 0, { maintenance: { phase: 'EnteringMaintenance', deadlineWallMs: NOW.wallMs + 60_000 } }),
        holding(2, 3),
      ],
      chains: [{ name: 'orders', members: [1, 2], leader: 1 }],
    });
    // The only other copy is behind: the draining leader stays until it caught up.
    const result = pass(
      drainingLeader,
      desiredOf({
        chains: [{ name: 'orders', replicas: 1 }],
        maintenance: [{ node: 1, target: 'maintenance' }],
      }),
    );
    expect(actionsOf(result)).toEqual([]);
  });
});
