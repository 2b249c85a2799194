import { describe, expect, it } from 'vitest';
import { STOP_DAEMON_GRACE_MS } from '../../../src/reconcile/index.js';
import {
  actionsOf,
  desiredOf,
  NOW,
  observedNode,
  observedOf,
  pass,
  running,
} from '../../support/reconcile/builders.js';

const deadlineWallMs = NOW.wallMs + 60_000;
const entering = { phase: 'EnteringMaintenance' as const, deadlineWallMs };
const drain2 = { node: 2, target: 'maintenance' as const, deadlineWallMs };

describe('reconcile: maintenance', () => {
  it('entering maintenance freezes placements on the node and starts its daemons elsewhere in the same pass', () => {
    const observed = observedOf({
      nodes: [
        observedNode(1),
        observedNode(2, { daemons: [running('counter')] }),
        observedNode(3, { load: 0.5 }),
      ],
    });
    const desired = desiredOf({ daemons: [{ name: 'counter', members: 1 }], maintenance: [drain2] });
    const result = pass(observed, desired);
    expect(actionsOf(result)).toEqual([
      { kind: 'CommitMaintenanceTransition', node: 2, target: entering },
      { kind: 'StartDaemon', daemon: 'counter', node: 1 },
    ]);
    // The member on the draining node stays until its replacement really runs.
    expect(result.blocked).toEqual([
      { subject: 'daemon/counter', reason: 'waiting for 1 members to run before draining' },
    ]);
  });

  it('stops the draining member once the replacement runs, then commits Maintenance once the node is empty', () => {
    const desired = desiredOf({ daemons: [{ name: 'counter', members: 1 }], maintenance: [drain2] });
    const moved = observedOf({
      nodes: [
        observedNode(1, { daemons: [running('counter')] }),
        observedNode(2, { maintenance: entering, daemons: [running('counter')] }),
      ],
    });
    expect(actionsOf(pass(moved, desired))).toEqual([
      {
        kind: 'StopDaemon',
        daemon: 'counter',
        node: 2,
        reason: 'node 2 is draining for maintenance',
        deadlineMonotonicMs: NOW.monotonicMs + STOP_DAEMON_GRACE_MS,
      },
    ]);
    const empty = observedOf({
      nodes: [observedNode(1, { daemons: [running('counter')] }), observedNode(2, { maintenance: entering })],
    });
    expect(actionsOf(pass(empty, desired))).toEqual([
      { kind: 'CommitMaintenanceTransition', node: 2, target: { phase: 'Maintenance' } },
    ]);
  });

  it('ends a drain that cannot finish by its deadline in DrainFailed with its reason', () => {
    // One node only: the member has nowhere to go.
    const observed = observedOf({
      nodes: [observedNode(2, { maintenance: entering, daemons: [running('counter')] })],
    });
    const desired = desiredOf({ daemons: [{ name: 'counter', members: 1 }], maintenance: [drain2] });
    const beforeDeadline = pass(observed, desired);
    expect(beforeDeadline.actions).toEqual([]);
    expect(beforeDeadline.blocked.map((entry) => entry.reason)).toContain(
      '1 members asked for, 0 placed: no placeable node with room',
    );
    const atDeadline = { monotonicMs: NOW.monotonicMs + 60_000, wallMs: deadlineWallMs };
    expect(actionsOf(pass(observed, desired, atDeadline))).toEqual([
      {
        kind: 'CommitMaintenanceTransition',
        node: 2,
        target: {
          phase: 'DrainFailed',
          reason:
            'drain deadline passed with 1 daemons and 0 chain replicas still on the node: daemon counter',
        },
      },
    ]);
  });

  it("copies a draining node's blob elsewhere, commits Maintenance only once the copy is there, then drops the node's copy", () => {
    const desired = desiredOf({ blobs: [{ id: 'photo', replicas: 2 }], maintenance: [drain2] });
    const observed = observedOf({
      nodes: [observedNode(1), observedNode(2, { maintenance: entering }), observedNode(3)],
      blobs: [{ id: 'photo', holders: [1, 2], heat: 0 }],
    });
    expect(actionsOf(pass(observed, desired))).toEqual([
      { kind: 'MigrateBlob', blob: 'photo', from: 1, to: 3, keepSource: true },
    ]);
    const copied = observedOf({
      nodes: [observedNode(1), observedNode(2, { maintenance: entering }), observedNode(3)],
      blobs: [{ id: 'photo', holders: [1, 2, 3], heat: 0 }],
    });
    expect(actionsOf(pass(copied, desired))).toEqual([
      { kind: 'CommitMaintenanceTransition', node: 2, target: { phase: 'Maintenance' } },
      { kind: 'DropBlobCopy', blob: 'photo', node: 2 },
    ]);
    const atDeadline = { monotonicMs: NOW.monotonicMs + 60_000, wallMs: deadlineWallMs };
    expect(actionsOf(pass(observed, desired, atDeadline))[0]).toEqual({
      kind: 'CommitMaintenanceTransition',
      node: 2,
      target: {
        phase: 'DrainFailed',
        reason:
          'drain deadline passed with 0 daemons and 0 chain replicas still on the node, and 1 blob copies not yet made elsewhere: blob photo (1 of 2 copies on other nodes)',
      },
    });
  });

  it("moves a draining node's chain replica away before evicting it", () => {
    const desired = desiredOf({ chains: [{ name: 'orders', replicas: 1 }], maintenance: [drain2] });
    const holds = { replicas: [{ chain: 'orders', lagRecords: 0 }] };
    const observed = observedOf({
      nodes: [observedNode(1), observedNode(2, { maintenance: entering, ...holds })],
      chains: [{ name: 'orders', members: [2], leader: 2 }],
    });
    expect(actionsOf(pass(observed, desired))).toEqual([
      { kind: 'RequestPlacement', chain: 'orders', leader: 2, exclude: [2], target: 1 },
      { kind: 'PullReplica', chain: 'orders', node: 1, source: 2 },
    ]);
    const copied = observedOf({
      nodes: [observedNode(1, holds), observedNode(2, { maintenance: entering, ...holds })],
      chains: [{ name: 'orders', members: [2, 1], leader: 2 }],
    });
    expect(actionsOf(pass(copied, desired))).toEqual([
      { kind: 'RequestEviction', chain: 'orders', leader: 2, victim: 2 },
      { kind: 'DropReplica', chain: 'orders', node: 2 },
    ]);
  });
});
