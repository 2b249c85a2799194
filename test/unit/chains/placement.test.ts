import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChainDefinition,
  MAX_CHAIN_REPLICAS,
  type PlacementAction,
  type PlacementInput,
  type PlacementNode,
  type PlacementRequest,
  planPlacement,
} from '../../../src/chains/index.js';
import type { NodeId } from '../../../src/lib/index.js';
import { applyActions, chain } from './placement-fixtures.js';

const GRACE_MS = 60_000;
const NOW_MS = 1_000_000;
const healthy = (...ids: NodeId[]): PlacementNode[] => ids.map((id) => ({ id, healthy: true }));
const gone = (id: NodeId, sinceMs: number): PlacementNode => ({ id, healthy: false, goneSinceMs: sinceMs });
const plan = (input: Partial<PlacementInput>) =>
  planPlacement({ chains: [], nodes: [], nowMs: NOW_MS, gracePeriodMs: GRACE_MS, ...input });

describe('planPlacement: new chains', () => {
  it('places replicas on distinct healthy nodes, fewest chains first, ties by id', () => {
    const result = plan({
      chains: [chain('a', [1, 2]), chain('b', [1, 3]), chain('c', [3])],
      nodes: [...healthy(1, 2, 3, 4, 5), { id: 6, healthy: false }],
      requests: [{ name: 'new', replicaCount: 3 }],
    });
    // Nodes 4 and 5 hold nothing; 2 and 3 hold one (2 wins the tie by id); 1 holds two; 6 is suspect.
    expect(result.actions).toEqual([{ type: 'place', name: 'new', replicas: [4, 5, 2], leader: 2 }]);
  });

  it('prefers nodes near the origin among equally loaded ones, and the origin leads when it is a replica', () => {
    const rtt = new Map([
      [5, 1],
      [4, 9],
      [3, 2],
    ]);
    const result = plan({
      nodes: healthy(2, 3, 4, 5),
      requests: [{ name: 'c', replicaCount: 2, origin: 2 }],
      rttMs: (from, to) => (from === 2 ? rtt.get(to) : undefined),
    });
    expect(result.actions).toEqual([{ type: 'place', name: 'c', replicas: [2, 5], leader: 2 }]);
  });

  it('spreads the requests of one plan (each placement counts for the next)', () => {
    const result = plan({
      nodes: healthy(1, 2, 3, 4),
      requests: [
        { name: 'x', replicaCount: 2 },
        { name: 'y', replicaCount: 2 },
      ],
    });
    expect(result.actions.map((action) => action.type === 'place' && action.replicas)).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('blocks a chain that cannot get enough healthy nodes with room, and skips names that exist', () => {
    const result = plan({
      chains: [chain('taken', [1])],
      nodes: healthy(1, 2),
      maxChainsPerNode: 1,
      requests: [
        { name: 'taken', replicaCount: 1 },
        { name: 'wide', replicaCount: 2 },
      ],
    });
    expect(result.actions).toEqual([]);
    expect(result.blocked).toEqual([
      {
        name: 'wide',
        reason: '2 replicas asked for, 1 healthy nodes with room (1 more hold their most chains)',
        healthyNodes: { withRoom: 1, full: 1 },
      },
    ]);
  });

  it("holds each node to its own chain limit (maxChains), the plan's default for nodes stating none", () => {
    const result = plan({
      chains: [chain('a', [1, 2]), chain('b', [1, 3]), chain('c', [3])],
      // Node 1 may hold 5, node 2 only 1 (full), node 3 the default of 2 (full), node 4 none.
      nodes: [
        { id: 1, healthy: true, maxChains: 5 },
        { id: 2, healthy: true, maxChains: 1 },
        { id: 3, healthy: true },
        { id: 4, healthy: true, maxChains: 0 },
      ],
      maxChainsPerNode: 2,
      requests: [
        { name: 'one', replicaCount: 1 },
        { name: 'two', replicaCount: 2 },
      ],
    });
    expect(result.actions).toEqual([{ type: 'place', name: 'one', replicas: [1], leader: 1 }]);
    expect(result.blocked).toEqual([
      {
        name: 'two',
        reason: '2 replicas asked for, 1 healthy nodes with room (3 more hold their most chains)',
        healthyNodes: { withRoom: 1, full: 3 },
      },
    ]);
  });

  it('never adds a learner on a full node: repair is blocked instead', () => {
    const result = plan({
      chains: [chain('a', [1, 2, 3]), chain('b', [4])],
      nodes: [...healthy(1, 2), gone(3, NOW_MS - GRACE_MS), { id: 4, healthy: true, maxChains: 1 }],
    });
    expect(result.actions).toEqual([]);
    expect(result.blocked).toEqual([{ name: 'a', reason: 'no healthy node to replace replica 3' }]);
  });
});

describe('planPlacement: repair', () => {
  const nodes = [...healthy(1, 2, 4, 5), gone(3, NOW_MS - GRACE_MS)];

  it('leaves a replica whose node is gone within the grace period alone', () => {
    const result = plan({
      chains: [chain('a', [1, 2, 3])],
      nodes: [...healthy(1, 2, 4), gone(3, NOW_MS - 1)],
    });
    expect(result).toEqual({ actions: [], blocked: [] });
  });

  it('replaces a replica gone past the grace period in two steps: a learner, then its promotion', () => {
    const start = [chain('a', [1, 2, 3], { epoch: 4 })];
    const first = plan({ chains: start, nodes });
    expect(first.actions).toEqual([{ type: 'add-learner', name: 'a', node: 4, replacing: 3 }]);
    const learning = applyActions(start, first.actions);
    expect(plan({ chains: learning, nodes }).actions).toEqual([]);
    const caughtUp = new Map([['a', new Set([4])]]);
    const second = plan({ chains: learning, nodes, caughtUpLearners: caughtUp });
    expect(second.actions).toEqual([{ type: 'promote-learner', name: 'a', learner: 4, replaced: 3 }]);
    const [promoted] = applyActions(learning, second.actions);
    expect(promoted).toMatchObject({ replicas: [1, 2, 4], epoch: 5, leader: 1 });
    expect(promoted?.learners).toBeUndefined();
    expect(plan({ chains: [promoted!], nodes }).actions).toEqual([]);
  });

  it('elects a new leader within the set before replacing a gone leader', () => {
    const result = plan({ chains: [chain('a', [3, 2, 1], { epoch: 7 })], nodes });
    expect(result.actions).toEqual([{ type: 'elect', name: 'a', epoch: 7, leader: 1 }]);
  });

  it('elects when the leader is only suspect, through the leader choice it is given', () => {
    const result = plan({
      chains: [chain('a', [1, 2, 4])],
      nodes: [{ id: 1, healthy: false }, ...healthy(2, 4)],
      chooseLeader: (replicas, _origin, excluded) => replicas.filter((node) => !excluded.has(node)).at(-1),
    });
    expect(result.actions).toEqual([{ type: 'elect', name: 'a', epoch: 1, leader: 4 }]);
  });

  it('drops a learner whose node is gone, and one no longer needed', () => {
    const goneLearner = plan({
      chains: [chain('a', [1, 2, 3], { learners: [6] })],
      nodes: [...nodes, gone(6, 0)],
    });
    expect(goneLearner.actions).toEqual([{ type: 'remove-learner', name: 'a', node: 6 }]);
    const cameBack = plan({ chains: [chain('a', [1, 2, 3], { learners: [4] })], nodes: healthy(1, 2, 3, 4) });
    expect(cameBack.actions).toEqual([{ type: 'remove-learner', name: 'a', node: 4 }]);
  });

  it('blocks a chain with no healthy replica to lead', () => {
    const result = plan({ chains: [chain('a', [3])], nodes });
    expect(result).toEqual({ actions: [], blocked: [{ name: 'a', reason: 'no healthy replica to lead' }] });
  });
});

// Property tests: random meshes (healthy, suspect, recently gone, gone past grace nodes) and
// random valid chains on them.
type NodeKind = 'healthy' | 'suspect' | 'departing' | 'gone';

const NODE_IDS = [1, 2, 3, 4, 5, 6, 7, 8];

const meshArbitrary = fc
  .record({
    kinds: fc.array(
      fc.constantFrom<NodeKind>('healthy', 'healthy', 'healthy', 'suspect', 'departing', 'gone'),
      {
        minLength: NODE_IDS.length,
        maxLength: NODE_IDS.length,
      },
    ),
    chains: fc.array(
      fc.record({
        replicas: fc.uniqueArray(fc.constantFrom(...NODE_IDS), { minLength: 1, maxLength: 5 }),
        learner: fc.option(fc.constantFrom(...NODE_IDS), { nil: undefined }),
        leaderIndex: fc.nat(4),
        caughtUp: fc.boolean(),
      }),
      { maxLength: 6 },
    ),
    requests: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }),
  })
  .map(({ kinds, chains, requests }) => {
    const nodes: PlacementNode[] = NODE_IDS.map((id, index) => nodeOfKind(id, kinds[index]!));
    const definitions: ChainDefinition[] = chains.map((spec, index) => {
      const learners =
        spec.learner === undefined || spec.replicas.includes(spec.learner)
          ? {}
          : { learners: [spec.learner] };
      const leader = spec.replicas[spec.leaderIndex % spec.replicas.length]!;
      return chain(`c${index}`, spec.replicas, { ...learners, leader, epoch: 1 + index });
    });
    const caughtUpLearners = new Map(
      chains.flatMap((spec, index) =>
        spec.caughtUp && spec.learner !== undefined ? [[`c${index}`, new Set([spec.learner])]] : [],
      ) as [string, Set<NodeId>][],
    );
    const placementRequests: PlacementRequest[] = requests.map((count, index) => ({
      name: `r${index}`,
      replicaCount: count,
    }));
    const input: PlacementInput = {
      chains: definitions,
      nodes,
      requests: placementRequests,
      caughtUpLearners,
      nowMs: NOW_MS,
      gracePeriodMs: GRACE_MS,
    };
    return input;
  });

function nodeOfKind(id: NodeId, kind: NodeKind): PlacementNode {
  switch (kind) {
    case 'healthy':
      return { id, healthy: true };
    case 'suspect':
      return { id, healthy: false };
    case 'departing':
      return gone(id, NOW_MS - GRACE_MS + 1);
    case 'gone':
      return gone(id, NOW_MS - GRACE_MS - 1);
  }
}

const isHealthy = (input: PlacementInput, node: NodeId) =>
  input.nodes.some((entry) => entry.id === node && entry.healthy);
const isGonePastGrace = (input: PlacementInput, node: NodeId) =>
  input.nodes.some(
    (entry) => entry.id === node && entry.goneSinceMs !== undefined && NOW_MS - entry.goneSinceMs >= GRACE_MS,
  );

describe('planPlacement: a node in maintenance', () => {
  it('takes no new replica on a node that is not placeable (maintenance, Recovery)', () => {
    const result = plan({
      nodes: [...healthy(1, 2), { id: 3, healthy: true, placeable: false }, ...healthy(4)],
      requests: [{ name: 'new', replicaCount: 3 }],
    });
    expect(result.actions).toEqual([{ type: 'place', name: 'new', replicas: [1, 2, 4], leader: 1 }]);
  });

  it('re-homes a leaving node: a new leader first, then a learner on a placeable node, promoted in its place', () => {
    const leaving: PlacementNode = { id: 1, healthy: true, leaving: true, placeable: false };
    const nodes = [leaving, ...healthy(2, 3), { id: 4, healthy: true, placeable: false }, ...healthy(5)];
    let chains = [chain('a', [1, 2, 3])];
    const first = plan({ chains, nodes });
    expect(first.actions).toEqual([{ type: 'elect', name: 'a', epoch: 1, leader: 2 }]);
    chains = applyActions(chains, first.actions);
    const second = plan({ chains, nodes });
    // Not node 4 (not placeable): node 5, at once (no grace period for a leaving node).
    expect(second.actions).toEqual([{ type: 'add-learner', name: 'a', node: 5, replacing: 1 }]);
    chains = applyActions(chains, second.actions);
    expect(plan({ chains, nodes }).actions).toEqual([]);
    const third = plan({ chains, nodes, caughtUpLearners: new Map([['a', new Set([5])]]) });
    expect(third.actions).toEqual([{ type: 'promote-learner', name: 'a', learner: 5, replaced: 1 }]);
    chains = applyActions(chains, third.actions);
    expect(chains[0]!.replicas).not.toContain(1);
    expect(plan({ chains, nodes }).actions).toEqual([]);
  });

  it("blocks, naming the replica, when no placeable node is left to take a leaving node's place", () => {
    const nodes = [{ id: 1, healthy: true, leaving: true }, ...healthy(2, 3)];
    const result = plan({ chains: [chain('a', [2, 3, 1], { leader: 2 })], nodes });
    expect(result.actions).toEqual([]);
    expect(result.blocked).toEqual([{ name: 'a', reason: 'no healthy node to replace replica 1' }]);
  });
});

describe('planPlacement properties', () => {
  it('one action per chain at most, on healthy nodes only, never two replicas on one node', () => {
    fc.assert(
      fc.property(meshArbitrary, (input) => {
        const { actions } = planPlacement(input);
        const names = actions.map((action) => action.name);
        expect(new Set(names).size).toBe(names.length);
        for (const action of actions) {
          const chosen = nodesChosenBy(action);
          for (const node of chosen) expect(isHealthy(input, node)).toBe(true);
        }
        // Throws if any resulting definition names a node twice (the changes check their result).
        for (const definition of applyActions(input.chains, actions)) {
          const members = [...definition.replicas, ...(definition.learners ?? [])];
          expect(new Set(members).size).toBe(members.length);
          expect(definition.replicas.length).toBeLessThanOrEqual(MAX_CHAIN_REPLICAS);
        }
      }),
    );
  });

  it('places each new chain on the least loaded healthy nodes (fewest chains first)', () => {
    fc.assert(
      fc.property(meshArbitrary, (input) => {
        const onlyOneRequest = { ...input, requests: (input.requests ?? []).slice(0, 1) };
        const { actions } = planPlacement(onlyOneRequest);
        const place = actions.find((action) => action.type === 'place');
        if (place?.type !== 'place') return;
        // Loads as the placement saw them: the definitions plus the learners added before it.
        const before = applyActions(
          input.chains,
          actions.filter((action) => action.type === 'add-learner'),
        );
        const load = (node: NodeId) =>
          before.filter((definition) =>
            [...definition.replicas, ...(definition.learners ?? [])].includes(node),
          ).length;
        const heaviestChosen = Math.max(...place.replicas.map(load));
        for (const node of input.nodes) {
          if (!node.healthy || place.replicas.includes(node.id)) continue;
          expect(load(node.id)).toBeGreaterThanOrEqual(heaviestChosen);
        }
      }),
    );
  });

  it('never removes a replica except by promoting a caught-up learner in place of a node gone past grace', () => {
    fc.assert(
      fc.property(meshArbitrary, (input) => {
        const { actions } = planPlacement(input);
        const after = new Map(
          applyActions(input.chains, actions).map((definition) => [definition.name, definition]),
        );
        for (const before of input.chains) {
          const removed = before.replicas.filter((node) => !after.get(before.name)!.replicas.includes(node));
          if (removed.length === 0) continue;
          const action = actions.find((candidate) => candidate.name === before.name);
          expect(action?.type).toBe('promote-learner');
          if (action?.type !== 'promote-learner') continue;
          expect(removed).toEqual([action.replaced]);
          expect(before.learners).toContain(action.learner);
          expect(input.caughtUpLearners?.get(before.name)?.has(action.learner)).toBe(true);
          expect(isGonePastGrace(input, action.replaced)).toBe(true);
          expect(action.replaced).not.toBe(before.leader);
        }
      }),
    );
  });

  it('is idempotent: planning again over the applied plan repeats no action', () => {
    fc.assert(
      fc.property(meshArbitrary, (input) => {
        const first = planPlacement(input);
        const applied = applyActions(input.chains, first.actions);
        const second = planPlacement({ ...input, chains: applied });
        for (const action of second.actions) {
          expect(first.actions.some((done) => done.name === action.name && done.type === action.type)).toBe(
            false,
          );
        }
      }),
    );
  });

  it('on a mesh with every node healthy, applying the plan leaves nothing to do', () => {
    fc.assert(
      fc.property(meshArbitrary, (input) => {
        const allHealthy = { ...input, nodes: NODE_IDS.map((id) => ({ id, healthy: true })) };
        const applied = applyActions(allHealthy.chains, planPlacement(allHealthy).actions);
        expect(planPlacement({ ...allHealthy, chains: applied }).actions).toEqual([]);
      }),
    );
  });

  it('converges: with learners catching up, repeated plans reach a plan with no actions', () => {
    fc.assert(
      fc.property(meshArbitrary, (input) => {
        let chains = input.chains;
        const rounds = 3 * MAX_CHAIN_REPLICAS + 2;
        for (let round = 0; round < rounds; round++) {
          const caughtUpLearners = new Map(
            chains.map((definition) => [definition.name, new Set(definition.learners ?? [])]),
          );
          const { actions } = planPlacement({ ...input, chains, caughtUpLearners });
          if (actions.length === 0) {
            // What is left has no replica on a node gone past grace, unless no healthy node could take it.
            return;
          }
          chains = applyActions(chains, actions);
        }
        throw new Error(`no fixed point after ${rounds} rounds`);
      }),
    );
  });
});

function nodesChosenBy(action: PlacementAction): NodeId[] {
  switch (action.type) {
    case 'place':
      return [...action.replicas, action.leader];
    case 'elect':
      return [action.leader];
    case 'add-learner':
      return [action.node];
    default:
      return [];
  }
}
