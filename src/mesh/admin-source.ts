import type { AdminStatusSource, NodeApplyResult, RaftNode } from '../server/index.js';
import { chainsStatusView } from './chain-metrics.js';
import { deckAdminAnswers } from './deck-admin.js';
import type { WorkerNodeConfig } from './membership-config.js';
import type { MeshNodeConfig } from './node-config.js';
import { type NodeParts, part } from './node-parts.js';
import { reconcileStatusView } from './reconcile-service.js';
import type { ServiceFaults } from './service-faults.js';
import type { ServiceTreeStatus } from './service-status.js';
import { workerName } from './worker-services.js';

/**
 * What a node's admin port answers: health, readiness from Raft, `/status` with Raft's view and
 * the service tree, and (tests only, with `faults`) the crash endpoint. Read fresh per request.
 */
export function nodeAdminSource(
  config: MeshNodeConfig,
  parts: NodeParts,
  serviceTree: () => ServiceTreeStatus,
  faults: ServiceFaults | undefined,
): AdminStatusSource {
  return {
    health: () => ({ ok: true, detail: { id: config.id } }),
    readiness: () => {
      const raft = part(parts, 'raft');
      return {
        ok: raft.isReady(),
        detail: { leaderId: raft.leaderInfo().leaderId, applied: raft.applied, commit: raft.status().commit },
      };
    },
    status: () => ({
      ...raftStatusView(part(parts, 'raft')),
      services: serviceTree(),
      chains: chainsStatusView(parts.chainHost, parts.chainCoordinator),
      reconcile: reconcileStatusView(parts),
    }),
    ...commonAdminAnswers(parts, 'voter', faults),
  };
}

/**
 * What a worker's admin port answers: ready once registered with the mesh's view loaded,
 * `/status` with its registration and the service tree.
 */
export function workerAdminSource(
  config: WorkerNodeConfig,
  parts: NodeParts,
  serviceTree: () => ServiceTreeStatus,
  faults: ServiceFaults | undefined,
): AdminStatusSource {
  return {
    health: () => ({ ok: true, detail: { id: part(parts, 'identity').id, role: 'worker' } }),
    readiness: () => {
      const membership = parts.membership;
      return {
        ok: membership?.registration.isRegistered === true && membership.view.isLoaded,
        detail: {
          registered: membership?.registration.isRegistered === true,
          membershipLoaded: membership?.view.isLoaded === true,
          lastError: membership?.registration.lastError?.message,
        },
      };
    },
    status: () => {
      const id = part(parts, 'identity').id;
      return {
        id,
        name: workerName(config, id),
        role: 'worker',
        controlPlane: parts.controlPlane?.kind,
        leaseId: parts.membership?.registration.leaseId,
        registrations: parts.membership?.registration.registrations,
        nodes: parts.membership?.view.size,
        services: serviceTree(),
        chains: chainsStatusView(parts.chainHost, parts.chainCoordinator),
        reconcile: reconcileStatusView(parts),
      };
    },
    ...commonAdminAnswers(parts, 'worker', faults),
  };
}

/**
 * The Deck's documents (`/nodes`, `/mesh/rtt`, `/consensus`, ...), its page, events and actions,
 * and (tests only) the crash endpoint.
 */
function commonAdminAnswers(
  parts: NodeParts,
  role: 'voter' | 'worker',
  faults: ServiceFaults | undefined,
): Pick<AdminStatusSource, 'routes' | 'actions' | 'eventStreams' | 'files' | 'crashService'> {
  return {
    ...deckAdminAnswers(parts, role),
    ...(faults === undefined ? {} : { crashService: crashTrigger(faults) }),
  };
}

/** What the admin port's crash endpoint calls: a crash of `service` if it is running. */
function crashTrigger(faults: ServiceFaults): (service: string) => (() => void) | undefined {
  return (service) =>
    faults.services().includes(service)
      ? () => faults.crash(service, 'crash requested on the admin port')
      : undefined;
}

function raftStatusView(raft: RaftNode<NodeApplyResult>): Record<string, unknown> {
  const status = raft.status();
  const progress =
    status.progress === undefined
      ? undefined
      : Object.fromEntries(
          [...status.progress].map(([id, item]) => [
            id,
            { match: item.match, lag: status.commit - item.match, state: item.state },
          ]),
        );
  return {
    id: status.id,
    role: status.role,
    term: status.term,
    leaderId: status.leaderId,
    commitIndex: status.commit,
    appliedIndex: raft.applied,
    config: status.config,
    ...(progress === undefined ? {} : { followers: progress }),
  };
}
