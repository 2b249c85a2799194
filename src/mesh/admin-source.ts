import type { AdminStatusSource, NodeApplyResult, RaftNode } from '../server/index.js';
import type { MeshNodeConfig } from './node-config.js';
import { type NodeParts, part } from './node-services.js';
import type { ServiceFaults } from './service-faults.js';
import type { ServiceTreeStatus } from './service-status.js';

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
    status: () => ({ ...raftStatusView(part(parts, 'raft')), services: serviceTree() }),
    routes: {
      '/nodes': () => parts.membership?.report() ?? Promise.resolve({ reporter: config.id, nodes: [] }),
    },
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
