/** Where a chain being created goes: `planPlacement`'s `place` for it alone, or a typed refusal. */
import type { ChainPlacementChoice } from './definition-changes.js';
import { ChainExistsError, ChainUnavailableError } from './errors.js';
import { type PlacementInput, type PlacementRequest, planPlacement } from './placement.js';

/**
 * The replicas and first leader of `request` given the mesh as `view` shows it (the other
 * chains count towards each node's load). CHAIN_EXISTS if a chain of that name is in the view,
 * CHAIN_UNAVAILABLE when too few healthy nodes have room.
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
  const reason = plan.blocked.find((blocked) => blocked.name === request.name)?.reason ?? 'no placement';
  throw new ChainUnavailableError(request.name, reason);
}
