/** Where a chain being created goes: `planPlacement`'s `place` for it alone, or a typed refusal. */
import type { ChainPlacementChoice } from './definition-changes.js';
import { CHAINS_PER_NODE_LIMIT, ChainExistsError, ChainLimitError, ChainUnavailableError } from './errors.js';
import { type PlacementInput, type PlacementRequest, planPlacement } from './placement.js';

/**
 * The replicas and first leader of `request` given the mesh as `view` shows it (the other
 * chains count towards each node's load). CHAIN_EXISTS if a chain of that name is in the view;
 * CHAIN_LIMIT_REACHED when there are enough healthy nodes but too many hold their most chains;
 * CHAIN_UNAVAILABLE when there are too few healthy nodes.
 */
export function placeNewChain(
  request: PlacementRequest,
  view: Omit<PlacementInput, 'requests' | 'caughtUpLearners'>,
): ChainPlacementChoice {
  if (view.chains.some((chain) => chain.name === request.name)) throw new ChainExistsError(request.name);
  const plan = planPlacement({ ...view, requests: [request] });
  for (const action of plan.actions) {
    if (action.type === 'place' && action.name === request.name) {
      return { replicas: action.replicas, leader: action.leader };
    }
  }
  const blocked = plan.blocked.find((entry) => entry.name === request.name);
  const healthy = blocked?.healthyNodes;
  // Enough healthy nodes, but too many of them full: the chain limit refused it, not health.
  if (healthy !== undefined && healthy.full > 0 && healthy.withRoom + healthy.full >= request.replicaCount) {
    throw new ChainLimitError(
      CHAINS_PER_NODE_LIMIT,
      `chain ${request.name}: ${request.replicaCount} replicas asked for, ${healthy.withRoom} healthy nodes have room and ${healthy.full} more hold their most chains (${CHAINS_PER_NODE_LIMIT}: a node's capacity.chains)`,
      {
        name: request.name,
        replicas: request.replicaCount,
        nodesWithRoom: healthy.withRoom,
        fullNodes: healthy.full,
      },
    );
  }
  throw new ChainUnavailableError(request.name, blocked?.reason ?? 'no placement');
}
