/**
 * The daemon steps of a drain (`planDaemonDrain`, pure) and what a node holds (`holdingsOf`):
 * the active goes to the most-synced standby on a node that takes placements, else to a free
 * node; a standby is re-homed; a replica member is relocated; a member with nowhere to go is
 * stuck with the reason a DrainFailed names.
 */
import { describe, expect, it } from 'vitest';
import type { ChainDefinition } from '../../../src/chains/index.js';
import type { DaemonPlacementNode } from '../../../src/daemons/placement.js';
import type { DaemonDefinition } from '../../../src/daemons/types.js';
import type { NodeId } from '../../../src/lib/index.js';
import { describeHoldings, holdingsOf, planDaemonDrain } from '../../../src/mesh/index.js';
import { isEmpty, neededBlobCopies } from '../../../src/mesh/maintenance-holdings.js';

function daemon(
  name: string,
  nodes: readonly NodeId[],
  group: DaemonDefinition['group'] = 'standby',
  active: number | undefined = 0,
): DaemonDefinition {
  return {
    name,
    kind: 'journal',
    group,
    config: undefined,
    members: nodes.map((node, index) => ({ index, node })),
    ...(active === undefined ? {} : { active }),
    standbyMode: 'hot',
    acks: 'quorum',
    epoch: 1,
    createdAtMs: 0,
  };
}

const up = (...ids: NodeId[]): DaemonPlacementNode[] => ids.map((id) => ({ id, healthy: true }));
const frozen = (id: NodeId): DaemonPlacementNode => ({ id, healthy: true, placeable: false });
const noProgress = () => undefined;

describe('planDaemonDrain', () => {
  it('moves the active to the standby that applied the most, on a node that takes placements', () => {
    const synced = new Map([
      [1, 40],
      [2, 55],
      [3, 70],
    ]);
    const steps = planDaemonDrain({
      node: 1,
      definitions: [daemon('log', [1, 2, 3, 4])],
      // Node 4's standby applied the most of the healthy ones but is draining too: not a target.
      nodes: [...up(1, 2, 3), frozen(4), ...up(5)],
      syncedThrough: (_name, index) => (index === 3 ? 90 : synced.get(index)),
    });
    expect(steps).toEqual([{ type: 'move-active', daemon: 'log', index: 0, to: 3 }]);
  });

  it('moves the active to the least loaded free node when no standby can take it', () => {
    const steps = planDaemonDrain({
      node: 1,
      definitions: [daemon('solo', [1], 'single'), daemon('other', [2, 3])],
      nodes: [...up(1, 2, 3, 4)],
      syncedThrough: noProgress,
    });
    expect(steps).toEqual([{ type: 'move-active', daemon: 'solo', index: 0, to: 4 }]);
  });

  it('re-homes a standby and relocates a replica member to nodes with no member of theirs', () => {
    const steps = planDaemonDrain({
      node: 2,
      definitions: [daemon('log', [1, 2]), daemon('shards', [2, 3], 'replica', undefined)],
      nodes: [...up(1, 2, 3), frozen(4), ...up(5)],
      syncedThrough: noProgress,
    });
    // Node 4 holds nothing and has the smaller id, but takes no placements: node 5.
    expect(steps).toEqual([
      { type: 'rehome-standby', daemon: 'log', index: 1, to: 5 },
      { type: 'relocate-replica', daemon: 'shards', index: 0, to: 5 },
    ]);
  });

  it('is stuck, with the reason, when no healthy node that takes placements is free', () => {
    const steps = planDaemonDrain({
      node: 1,
      definitions: [daemon('log', [2, 1]), daemon('solo', [1], 'single')],
      nodes: [...up(1, 2), { id: 3, healthy: false }, frozen(4)],
      syncedThrough: noProgress,
    });
    expect(steps).toEqual([
      {
        type: 'stuck',
        daemon: 'log',
        index: 1,
        reason: 'no healthy Active node without a member of the daemon to re-home it to',
      },
      { type: 'move-active', daemon: 'solo', index: 0, to: 2 },
    ]);
    expect(
      planDaemonDrain({
        node: 1,
        definitions: [daemon('solo', [1], 'single')],
        nodes: up(1),
        syncedThrough: noProgress,
      }),
    ).toEqual([
      {
        type: 'stuck',
        daemon: 'solo',
        index: 0,
        reason: 'no healthy Active node to move the active to (no standby there, no free node)',
      },
    ]);
  });

  it('has nothing to do for a node that runs no member', () => {
    expect(
      planDaemonDrain({
        node: 9,
        definitions: [daemon('log', [1, 2])],
        nodes: up(1, 2, 9),
        syncedThrough: noProgress,
      }),
    ).toEqual([]);
  });
});

describe('holdingsOf', () => {
  const chain = (name: string, replicas: NodeId[], leader: NodeId, learners?: NodeId[]): ChainDefinition => ({
    name,
    replicas,
    ...(learners === undefined ? {} : { learners }),
    acks: 'quorum',
    sync: { mode: 'batch' },
    retention: {},
    epoch: 1,
    leader,
    createdAtMs: 0,
  });

  it('names each daemon member and chain replica on the node with its role, in name order', () => {
    const holdings = holdingsOf(
      2,
      [
        daemon('b', [1, 2]),
        daemon('a', [2, 3], 'standby', 0),
        daemon('c', [3, 2], 'replica', undefined),
        daemon('d', [1]),
      ],
      [chain('y', [1, 2], 1), chain('x', [2, 3], 2), chain('z', [1, 3], 1, [2]), chain('w', [1, 3], 1)],
    );
    expect(holdings).toEqual({
      daemons: [
        { daemon: 'a', index: 0, role: 'active' },
        { daemon: 'b', index: 1, role: 'standby' },
        { daemon: 'c', index: 1, role: 'replica' },
      ],
      chains: [
        { chain: 'x', role: 'leader' },
        { chain: 'y', role: 'replica' },
        { chain: 'z', role: 'learner' },
      ],
      blobs: [],
    });
    const reasons = {
      daemon: (member: { daemon: string }) => (member.daemon === 'b' ? 'nowhere to go' : undefined),
      chain: (replica: { chain: string }) => (replica.chain === 'y' ? 'no node free' : undefined),
    };
    expect(describeHoldings(holdings, reasons)).toEqual([
      'daemon a member 0 (active)',
      'daemon b member 1 (standby): nowhere to go',
      'daemon c member 1 (replica)',
      'chain x (leader)',
      'chain y (replica): no node free',
      'chain z (learner)',
    ]);
    expect(holdingsOf(4, [daemon('b', [1, 2])], [chain('y', [1, 2], 1)])).toEqual({
      daemons: [],
      chains: [],
      blobs: [],
    });
  });

  it('names the blob copies on the node whose blob has fewer than its count on other nodes that keep copies', () => {
    const blobs = [
      { id: 'b-short', replicas: 2, holders: [1, 2] },
      { id: 'a-kept', replicas: 2, holders: [1, 2, 3] },
      { id: 'c-draining-other', replicas: 2, holders: [2, 3, 4] },
      { id: 'd-elsewhere', replicas: 1, holders: [3] },
    ];
    // Node 4 is draining too: its copy does not count.
    const needed = neededBlobCopies(2, blobs, (node) => node !== 4);
    expect(needed).toEqual([
      { blob: 'b-short', replicas: 2, kept: 1 },
      { blob: 'c-draining-other', replicas: 2, kept: 1 },
    ]);
    const holdings = holdingsOf(2, [], [], needed);
    expect(isEmpty(holdings)).toBe(false);
    expect(describeHoldings(holdings)).toEqual([
      'blob b-short (1 of 2 copies on other nodes)',
      'blob c-draining-other (1 of 2 copies on other nodes)',
    ]);
    expect(
      isEmpty(
        holdingsOf(
          2,
          [],
          [],
          neededBlobCopies(2, blobs, () => true),
        ),
      ),
    ).toBe(false);
    expect(neededBlobCopies(3, blobs, () => true)).toEqual([{ blob: 'd-elsewhere', replicas: 1, kept: 0 }]);
    expect(neededBlobCopies(1, blobs.slice(1, 2), () => true)).toEqual([]);
  });
});
