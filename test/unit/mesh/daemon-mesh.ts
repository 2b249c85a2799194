/**
 * Daemons services of several nodes in this process: their `DaemonRequests` and members over one
 * in-process control plane, one in-memory chains backend (the chains every node reaches) and an
 * in-memory daemons channel between them, on which a test can cut a node off.
 */
import { type ControlPlane, openControlPlane } from '../../../src/control/index.js';
import { DaemonDirectory, type StoredDaemon } from '../../../src/daemons/directory.js';
import { BUILT_IN_KINDS, createKindCatalog } from '../../../src/daemons/index.js';
import { type NodeId, SystemClock, systemRandom } from '../../../src/lib/index.js';
import { DaemonCoordinator } from '../../../src/mesh/daemon-coordinator.js';
import { DaemonMembers } from '../../../src/mesh/daemon-members.js';
import { DaemonPeerRequests } from '../../../src/mesh/daemon-peer-requests.js';
import { DaemonRequests } from '../../../src/mesh/daemon-requests.js';
import type { PeerChannelLink } from '../../../src/server/index.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';

export interface DaemonNode {
  readonly id: NodeId;
  readonly requests: DaemonRequests;
  readonly members: DaemonMembers;
  readonly directory: DaemonDirectory;
  readonly coordinator: DaemonCoordinator;
  definitions: ReadonlyMap<string, StoredDaemon>;
}

export interface DaemonMesh {
  readonly nodes: Map<NodeId, DaemonNode>;
  readonly chains: FakeChainsBackend;
  readonly plane: ControlPlane;
  /** Nodes whose daemons channel drops everything (and which placement sees unhealthy). */
  readonly down: Set<NodeId>;
  node(id: NodeId): DaemonNode;
  close(): Promise<void>;
}

export async function openDaemonMesh(ids: readonly NodeId[]): Promise<DaemonMesh> {
  const clock = new SystemClock();
  const backend = new LocalKvBackend({ clock });
  const plane = await openControlPlane({ kind: 'in-process', backend, clock });
  const chains = new FakeChainsBackend();
  const down = new Set<NodeId>();
  const handlers = new Map<NodeId, (from: NodeId, payload: Uint8Array) => void>();
  const nodes = new Map<NodeId, DaemonNode>();
  const stops: Array<() => Promise<void>> = [];
  for (const id of ids) {
    const link: PeerChannelLink = {
      send: (peer, payload) => {
        if (down.has(id) || down.has(peer) || !handlers.has(peer)) return false;
        queueMicrotask(() => handlers.get(peer)?.(id, payload));
        return true;
      },
      onMessage: (handler) => handlers.set(id, handler),
      onPeerLost: () => undefined,
    };
    const catalog = createKindCatalog(BUILT_IN_KINDS);
    const directory = new DaemonDirectory(plane);
    const members = new DaemonMembers({ self: id, catalog, chains, clock });
    const changes: Array<() => void> = [];
    const entry: Partial<DaemonNode> & { definitions: ReadonlyMap<string, StoredDaemon> } = {
      id,
      members,
      directory,
      definitions: new Map(),
    };
    let coordinator: DaemonCoordinator | undefined;
    const follower = directory.follow((daemons) => {
      entry.definitions = daemons;
      members.reconcile(daemons);
      coordinator?.notify();
      for (const wake of changes.splice(0)) wake();
    }, clock);
    const peers = new DaemonPeerRequests(link, clock);
    const requests = new DaemonRequests({
      self: id,
      directory,
      chainDirectory: {
        create: async (request, placement) => {
          await chains.create({
            name: request.name,
            replicas: placement.replicas.length,
            acks: request.acks ?? 'quorum',
          });
          return undefined as never;
        },
        delete: (name) => chains.delete(name),
      },
      chains,
      catalog,
      members,
      peers,
      definitions: () => entry.definitions,
      nextChange: (timeoutMs) =>
        new Promise((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          changes.push(() => {
            clearTimeout(timer);
            resolve();
          });
        }),
      nodes: () => ids.map((node) => ({ id: node, healthy: !down.has(node) })),
      clock,
    });
    const healthyNodes = () => ids.map((node) => ({ id: node, healthy: !down.has(node) }));
    coordinator = new DaemonCoordinator({
      plane,
      directory,
      self: id,
      definitions: () => entry.definitions,
      nodes: healthyNodes,
      onNodesChange: () => () => undefined,
      progressOf: (name, node) => requests.progressOf(name, node),
      rttMs: () => undefined,
      clock,
      random: systemRandom(),
    });
    coordinator.start();
    const node = Object.assign(entry, { requests, coordinator }) as DaemonNode;
    nodes.set(id, node);
    stops.push(async () => {
      await coordinator?.stop();
      follower.stop();
      peers.close();
      await members.close();
    });
  }
  return {
    nodes,
    chains,
    plane,
    down,
    node: (id) => nodes.get(id) as DaemonNode,
    async close() {
      for (const stop of stops) await stop();
      await plane.close();
      backend.close();
    },
  };
}
