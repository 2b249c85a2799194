/**
 * Daemons services of several nodes in this process: their `DaemonRequests` and members over one
 * in-process control plane, one in-memory chains backend (the chains every node reaches) and an
 * in-memory daemons channel between them, on which a test can cut a node off.
 */
import { type ControlPlane, openControlPlane } from '../../../src/control/index.js';
import { BUILT_IN_KINDS, createKindCatalog } from '../../../src/daemons/index.js';
import { type NodeId, SystemClock, systemRandom } from '../../../src/lib/index.js';
import { type DaemonsNode, openDaemonsNode } from '../../../src/mesh/daemon-node.js';
import type { PeerChannelLink } from '../../../src/server/index.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';

export interface DaemonNode extends DaemonsNode {
  readonly id: NodeId;
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
    const healthyNodes = () => ids.map((node) => ({ id: node, healthy: !down.has(node) }));
    const daemonsNode = openDaemonsNode({
      self: id,
      plane,
      chains,
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
      catalog,
      link,
      nodes: healthyNodes,
      onNodesChange: () => () => undefined,
      rttMs: () => undefined,
      clock,
      random: systemRandom(),
    });
    nodes.set(id, { id, ...daemonsNode });
    stops.push(() => daemonsNode.close());
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
