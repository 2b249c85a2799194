import { describe, expect, it } from 'vitest';
import { DaemonPlacementError } from '../../../src/daemons/cluster-errors.js';
import {
  chooseFailoverMember,
  chooseReplicaRelocation,
  daemonChainReplicas,
  placeDaemonMembers,
  replacementNode,
} from '../../../src/daemons/placement.js';
import type { DaemonDefinition } from '../../../src/daemons/types.js';
import type { NodeId } from '../../../src/lib/index.js';

function deployed(name: string, nodes: readonly NodeId[], active = 0): DaemonDefinition {
  return {
    name,
    kind: 'journal',
    group: nodes.length === 1 ? 'single' : 'standby',
    config: undefined,
    members: nodes.map((node, index) => ({ index, node })),
    active,
    standbyMode: 'hot',
    acks: 'quorum',
    epoch: 1,
    createdAtMs: 0,
  };
}

const healthy = (ids: readonly NodeId[]) => ids.map((id) => ({ id, healthy: true }));

describe('placeDaemonMembers', () => {
  it('puts members on distinct healthy nodes, least loaded first, ties by node id', () => {
    const nodes = [...healthy([4, 1, 3]), { id: 2, healthy: false }];
    expect(placeDaemonMembers({ name: 'a', memberCount: 3, nodes, existing: [] })).toEqual([1, 3, 4]);
    const existing = [deployed('x', [1, 3]), deployed('y', [1])];
    expect(placeDaemonMembers({ name: 'a', memberCount: 2, nodes, existing })).toEqual([4, 3]);
  });

  it('fails with DAEMON_PLACEMENT_FAILED when too few nodes are healthy', () => {
    const nodes = [...healthy([1]), { id: 2, healthy: false }];
    expect(() => placeDaemonMembers({ name: 'a', memberCount: 2, nodes, existing: [] })).toThrow(
      DaemonPlacementError,
    );
  });

  it('extends a small daemon chains replica set with the least loaded other nodes', () => {
    const nodes = healthy([1, 2, 3, 4]);
    expect(daemonChainReplicas([3], nodes, [deployed('x', [1])])).toEqual([3, 2, 4]);
    expect(daemonChainReplicas([3, 1, 2, 4], nodes, [])).toEqual([3, 1, 2, 4]);
    expect(daemonChainReplicas([2], healthy([2]), [])).toEqual([2]);
  });
});

describe('placement skips nodes that take no placements', () => {
  it('places no member, chain replica or replacement on a node that is not placeable', () => {
    const nodes = [...healthy([1, 2]), { id: 3, healthy: true, placeable: false }, ...healthy([4])];
    expect(placeDaemonMembers({ name: 'a', memberCount: 3, nodes, existing: [] })).toEqual([1, 2, 4]);
    expect(daemonChainReplicas([1], nodes, [])).toEqual([1, 2, 4]);
    expect(replacementNode(deployed('a', [1, 2]), nodes, [])).toBe(4);
    expect(replacementNode(deployed('a', [1, 2, 4]), nodes, [])).toBeUndefined();
  });
});

describe('chooseFailoverMember', () => {
  const definition = deployed('a', [1, 2, 3, 4]);
  it('promotes the healthy standby with the highest syncedThrough, then nearest, then smallest id', () => {
    const base = { definition, healthy: (node: NodeId) => node !== 4, rttMs: () => undefined };
    expect(
      chooseFailoverMember({
        ...base,
        syncedThrough: new Map([
          [1, 5],
          [2, 9],
          [3, 40],
        ]),
      }),
    ).toBe(2);
    const tied = new Map([
      [1, 9],
      [2, 9],
    ]);
    expect(chooseFailoverMember({ ...base, syncedThrough: tied })).toBe(1);
    expect(
      chooseFailoverMember({ ...base, syncedThrough: tied, rttMs: (node) => (node === 3 ? 1 : undefined) }),
    ).toBe(2);
    expect(
      chooseFailoverMember({ ...base, syncedThrough: tied, rttMs: (node) => (node === 2 ? 2 : 1) }),
    ).toBe(2);
  });

  it('never picks the active, an unhealthy member or one that did not report', () => {
    const syncedThrough = new Map([
      [0, 100],
      [3, 50],
    ]);
    expect(
      chooseFailoverMember({ definition, healthy: () => true, syncedThrough, rttMs: () => undefined }),
    ).toBe(3);
    expect(
      chooseFailoverMember({
        definition,
        healthy: (node) => node !== 4,
        syncedThrough,
        rttMs: () => undefined,
      }),
    ).toBeUndefined();
  });
});

describe('replacementNode', () => {
  it('picks a healthy node holding no member of the daemon, least loaded first, ties by node id', () => {
    const definition = deployed('a', [1, 2, 3]);
    const nodes = [...healthy([1, 2, 3, 6, 5]), { id: 4, healthy: false }];
    expect(replacementNode(definition, nodes, [definition])).toBe(5);
    const busy = deployed('b', [5]);
    expect(replacementNode(definition, nodes, [definition, busy])).toBe(6);
  });

  it('answers undefined when every healthy node already holds a member', () => {
    const definition = deployed('a', [1, 2, 3]);
    expect(
      replacementNode(definition, [...healthy([1, 2, 3]), { id: 4, healthy: false }], []),
    ).toBeUndefined();
  });
});

describe('chooseReplicaRelocation', () => {
  const replicas = (nodes: readonly NodeId[]): DaemonDefinition => {
    const { active: _active, ...definition } = deployed('r', nodes);
    return { ...definition, group: 'replica' };
  };

  it('moves the first member whose node is lost to the least loaded node running no member of the group', () => {
    const nodes = [...healthy([1, 3, 4, 5]), { id: 2, healthy: false }];
    const definition = replicas([1, 2, 3]);
    expect(chooseReplicaRelocation({ definition, nodes, existing: [definition] })).toEqual({
      index: 1,
      node: 4,
    });
    // Node 4 runs another daemon's member: node 5 is less loaded.
    const existing = [definition, deployed('x', [4])];
    expect(chooseReplicaRelocation({ definition, nodes, existing })).toEqual({ index: 1, node: 5 });
  });

  it('leaves the group as it is when every member node is healthy or no node is free', () => {
    const definition = replicas([1, 2, 3]);
    expect(
      chooseReplicaRelocation({ definition, nodes: healthy([1, 2, 3, 4]), existing: [] }),
    ).toBeUndefined();
    const nodes = [...healthy([1, 3]), { id: 2, healthy: false }];
    expect(chooseReplicaRelocation({ definition, nodes, existing: [] })).toBeUndefined();
  });
});
