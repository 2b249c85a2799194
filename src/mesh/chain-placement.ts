/**
 * Where a node's chain requests place new chains and whom its failover proposals name, from
 * what the node sees of the mesh: its membership view (registered and not suspected nodes are
 * healthy) and the shared RTT matrix when one is available. Without measured RTTs every healthy
 * node is equally near, so ties go by node id (docs/CHAINS.md "On a running node").
 */
import {
  ChainUnavailableError,
  matrixLeaderChoice,
  type ProximityMatrix,
  type ProximityMatrixRow,
  planPlacement,
} from '../chains/index.js';
import type { Clock, NodeId } from '../lib/index.js';
import type { ChainPlacer } from './chain-requests.js';
import type { MembershipView } from './membership-view.js';

/** How long a node must be gone before placement replaces its replicas (the coordinator's input). */
export const CHAIN_REPLACEMENT_GRACE_MS = 60_000;

/**
 * The matrix as the membership view alone can tell it: a fresh row for each live node, naming
 * every other live node healthy, no RTT samples. Used until measured rows are available.
 */
export function membershipMatrix(view: MembershipView): ProximityMatrix {
  const live = view
    .nodes()
    .filter((node) => node.health === 'alive')
    .map((node) => node.record.id);
  const rows = new Map<NodeId, ProximityMatrixRow>();
  for (const node of live) {
    const peers = new Map(live.filter((peer) => peer !== node).map((peer) => [peer, { healthy: true }]));
    rows.set(node, { node, publishedAtMs: 0, peers, fresh: true });
  }
  return { rows };
}

/** Places a new chain with `planPlacement` over the live nodes of `view()`. */
export function meshChainPlacer(
  view: () => MembershipView,
  matrix: () => ProximityMatrix,
  clock: Clock,
): ChainPlacer {
  return async ({ name, replicaCount, origin, existing }) => {
    const nodes = view()
      .nodes()
      .map((node) => ({ id: node.record.id, healthy: node.health === 'alive' }));
    const plan = planPlacement({
      chains: existing,
      requests: [{ name, replicaCount, origin }],
      nodes,
      nowMs: clock.wallMs(),
      gracePeriodMs: CHAIN_REPLACEMENT_GRACE_MS,
      chooseLeader: matrixLeaderChoice(matrix),
    });
    for (const action of plan.actions)
      if (action.type === 'place' && action.name === name)
        return { replicas: action.replicas, leader: action.leader };
    const reason = plan.blocked.find((blocked) => blocked.name === name)?.reason ?? 'no placement found';
    throw new ChainUnavailableError(name, `cannot place ${replicaCount} replicas: ${reason}`);
  };
}
