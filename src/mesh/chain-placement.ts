/**
 * What a node's chain requests and coordinator see of the mesh: its membership view (registered
 * and not suspected nodes are healthy) and the shared RTT matrix when one is available. Without
 * measured RTTs every healthy node is equally near, so ties go by node id (docs/CHAINS.md "On a
 * running node").
 */
import {
  type CoordinatorMembership,
  matrixLeaderChoice,
  type ProximityMatrix,
  type ProximityMatrixRow,
  placeNewChain,
} from '../chains/index.js';
import type { Clock, NodeId } from '../lib/index.js';
import type { ChainPlacer } from './chain-requests.js';
import type { MaintenanceStates, MaintenanceView } from './maintenance-view.js';
import type { MembershipView } from './membership-view.js';
import type { NodeRecord } from './node-record.js';

/** The capacity resource that is a node's chain limit (`--capacity chains=N`). */
export const CHAINS_CAPACITY_RESOURCE = 'chains';

/**
 * The matrix as the membership view alone can tell it: a fresh row for each live node, naming
 * every other live node healthy, no RTT samples. Used while no measured rows are available.
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

/**
 * The membership view as the coordinator reads it, with each node's maintenance state: a draining
 * node is `leaving` (its replicas are re-homed, it leads nothing), a node that is not Active is
 * not `placeable`. Changes of either wake the coordinator.
 */
export function coordinatorMembership(
  view: () => MembershipView,
  maintenance: () => MaintenanceView | undefined = () => undefined,
): CoordinatorMembership {
  return {
    nodes: () =>
      view()
        .nodes()
        .map((node) => ({
          id: node.record.id,
          healthy: node.health === 'alive',
          ...chainLimitOf(node.record),
          ...maintenanceOf(maintenance(), node.record.id),
        })),
    onChange: (listener) => {
      const unsubscribe = [view().onChange(() => listener()), maintenance()?.onChange(listener)];
      return () => {
        for (const stop of unsubscribe) stop?.();
      };
    },
  };
}

function maintenanceOf(
  maintenance: MaintenanceStates | undefined,
  node: NodeId,
): { leaving?: boolean; placeable?: boolean } {
  if (maintenance === undefined || maintenance.placeable(node)) return {};
  return { placeable: false, ...(maintenance.leaving(node) ? { leaving: true } : {}) };
}

/**
 * A node's chain limit as its record states it (`capacity.chains`, from `--capacity chains=N`);
 * none when it states none (placement then uses `DEFAULT_MAX_CHAINS_PER_NODE`).
 */
export function chainLimitOf(record: Pick<NodeRecord, 'capacity'>): { maxChains?: number } {
  const limit = record.capacity[CHAINS_CAPACITY_RESOURCE];
  return limit === undefined ? {} : { maxChains: limit };
}

/** Places a new chain (`placeNewChain`) over the nodes of `view()` that take placements. */
export function meshChainPlacer(
  view: () => MembershipView,
  matrix: () => ProximityMatrix,
  clock: Clock,
  gracePeriodMs: number,
  maintenance: () => MaintenanceView | undefined = () => undefined,
): ChainPlacer {
  const membership = coordinatorMembership(view, maintenance);
  return async ({ name, replicaCount, origin, existing }) =>
    placeNewChain(
      { name, replicaCount, origin },
      {
        chains: existing,
        nodes: membership.nodes(),
        nowMs: clock.nowMs(),
        gracePeriodMs,
        chooseLeader: matrixLeaderChoice(matrix),
      },
    );
}
