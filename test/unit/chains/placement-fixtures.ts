/** Shared by the placement tests: definitions in a line, and a plan's actions applied to them. */
import {
  type ChainDefinition,
  newChainDefinition,
  type PlacementAction,
  withLearner,
  withNextEpoch,
  withoutLearner,
  withPromotedLearner,
} from '../../../src/chains/index.js';
import type { NodeId } from '../../../src/lib/index.js';

export function chain(
  name: string,
  replicas: NodeId[],
  extra: Partial<ChainDefinition> = {},
): ChainDefinition {
  return {
    name,
    replicas,
    acks: 'quorum',
    sync: { mode: 'batch' },
    retention: {},
    epoch: 1,
    leader: replicas[0]!,
    createdAtMs: 0,
    ...extra,
  };
}

/** The definitions after the actions: what the coordinator's compare-and-swaps would commit. */
export function applyActions(
  chains: readonly ChainDefinition[],
  actions: readonly PlacementAction[],
): ChainDefinition[] {
  const byName = new Map(chains.map((definition) => [definition.name, definition]));
  for (const action of actions) {
    const current = byName.get(action.name);
    if (action.type === 'place') {
      const spec = {
        name: action.name,
        replicaCount: action.replicas.length,
        acks: 'quorum' as const,
        sync: { mode: 'batch' as const },
        retention: {},
      };
      byName.set(action.name, newChainDefinition(spec, action, 0));
      continue;
    }
    if (current === undefined) throw new Error(`action on a chain that does not exist: ${action.name}`);
    byName.set(action.name, applyRepair(current, action));
  }
  return [...byName.values()];
}

function applyRepair(
  current: ChainDefinition,
  action: Exclude<PlacementAction, { type: 'place' }>,
): ChainDefinition {
  switch (action.type) {
    case 'elect':
      return withNextEpoch(current, action.leader);
    case 'add-learner':
      return withLearner(current, action.node);
    case 'remove-learner':
      return withoutLearner(current, action.node);
    case 'promote-learner':
      return withPromotedLearner(current, action.learner, action.replaced);
  }
}
