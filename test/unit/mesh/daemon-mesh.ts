/**
 * Daemons services of several nodes in this process: their `DaemonRequests` and members over one
 * in-process control plane, one in-memory chains backend (the chains every node reaches; their
 * definitions are in the control plane too, for the promotion's chain takeover) and an in-memory
 * daemons channel between them, on which a test can cut a node off. A test can also take a
 * node's registration away (`gone`) and give each node a lease its actives serve under.
 */
import { ChainDirectory } from '../../../src/chains/index.js';
import { type ControlPlane, openControlPlane } from '../../../src/control/index.js';
import { BUILT_IN_KINDS, createKindCatalog, type DaemonKind } from '../../../src/daemons/index.js';
import { type Clock, type NodeId, SystemClock, systemRandom } from '../../../src/lib/index.js';
import type { NodeLease } from '../../../src/mesh/daemon-active-fence.js';
import { daemonChainDefinitions } from '../../../src/mesh/daemon-chain-takeover.js';
import { MemoryCheckpointStore } from '../../../src/mesh/daemon-checkpoint-store.js';
import type { CheckpointThresholds } from '../../../src/mesh/daemon-member-checkpoints.js';
import { type DaemonsNode, openDaemonsNode } from '../../../src/mesh/daemon-node.js';
import { decodePeerFrame } from '../../../src/mesh/peer-request-frames.js';
import type { PeerChannelLink } from '../../../src/server/index.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';

export interface DaemonNode extends DaemonsNode {
  readonly id: NodeId;
  /** The node's checkpoint files. */
  readonly checkpoints: MemoryCheckpointStore;
}

export interface DaemonMesh {
  readonly nodes: Map<NodeId, DaemonNode>;
  readonly chains: FakeChainsBackend;
  readonly plane: ControlPlane;
  /**
   * Nodes whose daemons channel takes messages and never delivers them (a lost peer's queue),
   * and which every node sees unhealthy.
   */
  readonly down: Set<NodeId>;
  /**
   * Nodes whose connection every other node's daemons channel reports lost (still healthy in the
   * nodes' views): requests to them are refused unsent, or held until it is back.
   */
  readonly lostConnections: Set<NodeId>;
  /** How often a channel found a connection lost (a request refused or held). */
  readonly lostConnectionChecks: { count: number };
  /** Nodes no longer registered at all (their lease expired): absent from every node's view. */
  readonly gone: Set<NodeId>;
  /** Types of daemons requests (`move-await`, ...) every node's channel takes and never delivers. */
  readonly droppedRequests: Set<string>;
  /** Each node's lease, with `leases: true`; a test sets it (undefined: not registered). */
  readonly leases: Map<NodeId, NodeLease | undefined>;
  node(id: NodeId): DaemonNode;
  /** Tells node `id`'s daemons it registered again (call after setting its new lease). */
  registered(id: NodeId): void;
  /**
   * Closes node `id`'s daemons and opens them again, with its checkpoint files kept or, with
   * `freshDisk`, none (a node whose disk was replaced).
   */
  restart(id: NodeId, options?: { freshDisk?: boolean }): Promise<DaemonNode>;
  close(): Promise<void>;
}

export interface DaemonMeshOptions {
  /** Kinds the nodes run besides the built-ins. */
  readonly kinds?: readonly DaemonKind[];
  /** Actives serve under the leases in `DaemonMesh.leases` (each node's starts alive for an hour). */
  readonly leases?: boolean;
  /** The nodes' clock (the system clock by default). */
  readonly clock?: Clock;
  /** When members take checkpoints (the default thresholds when absent). */
  readonly checkpointEvery?: CheckpointThresholds;
  /** How long a move's target keeps what it prepared (the default when absent). */
  readonly preparedTtlMs?: number;
}

const LEASE_ALIVE_MS = 3_600_000;

export async function openDaemonMesh(
  ids: readonly NodeId[],
  options: DaemonMeshOptions = {},
): Promise<DaemonMesh> {
  const clock = options.clock ?? new SystemClock();
  const backend = new LocalKvBackend({ clock });
  const plane = await openControlPlane({ kind: 'in-process', backend, clock });
  const chains = new FakeChainsBackend();
  const chainDirectory = new ChainDirectory(plane, { clock });
  const down = new Set<NodeId>();
  const lostConnections = new Set<NodeId>();
  const lostConnectionChecks = { count: 0 };
  const gone = new Set<NodeId>();
  const droppedRequests = new Set<string>();
  const dropped = (payload: Uint8Array): boolean => {
    if (droppedRequests.size === 0) return false;
    const frame = decodePeerFrame(payload);
    return frame.kind === 'request' && droppedRequests.has(String(frame.header.type));
  };
  const leases = new Map<NodeId, NodeLease | undefined>();
  const registeredListeners = new Map<NodeId, (() => void)[]>();
  const handlers = new Map<NodeId, (from: NodeId, payload: Uint8Array) => void>();
  const nodes = new Map<NodeId, DaemonNode>();
  const openNode = (id: NodeId, checkpoints: MemoryCheckpointStore): DaemonNode => {
    const link: PeerChannelLink = {
      send: (peer, payload) => {
        if (!handlers.has(peer)) return false;
        // Taken and never delivered, as a transport queues messages for a peer it lost.
        if (down.has(id) || down.has(peer) || dropped(payload)) return true;
        queueMicrotask(() => handlers.get(peer)?.(id, payload));
        return true;
      },
      onMessage: (handler) => handlers.set(id, handler),
      onPeerLost: () => undefined,
      connectionLost: (peer) => {
        const lost = lostConnections.has(peer);
        if (lost) lostConnectionChecks.count++;
        return lost;
      },
    };
    const catalog = createKindCatalog([...BUILT_IN_KINDS, ...(options.kinds ?? [])]);
    const healthyNodes = () =>
      ids.filter((node) => !gone.has(node)).map((node) => ({ id: node, healthy: !down.has(node) }));
    const daemonsNode = openDaemonsNode({
      checkpoints,
      ...(options.checkpointEvery === undefined ? {} : { checkpointEvery: options.checkpointEvery }),
      ...(options.preparedTtlMs === undefined ? {} : { preparedTtlMs: options.preparedTtlMs }),
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
          return chainDirectory.create(request, placement);
        },
        delete: async (name) => {
          await chains.delete(name);
          await chainDirectory.delete(name);
        },
      },
      chainsOf: (daemon) => daemonChainDefinitions(chainDirectory, daemon),
      ...(options.leases === true
        ? {
            registration: {
              lease: () => leases.get(id),
              onRegistered: (listener: () => void) => {
                registeredListeners.get(id)?.push(listener);
                return () => undefined;
              },
            },
          }
        : {}),
      catalog,
      link,
      nodes: healthyNodes,
      onNodesChange: () => () => undefined,
      rttMs: () => undefined,
      clock,
      random: systemRandom(),
    });
    const node = { id, checkpoints, ...daemonsNode };
    nodes.set(id, node);
    return node;
  };
  for (const id of ids) {
    leases.set(id, { id: id * 100, aliveUntilMs: clock.nowMs() + LEASE_ALIVE_MS });
    registeredListeners.set(id, []);
    openNode(id, new MemoryCheckpointStore());
  }
  return {
    nodes,
    chains,
    plane,
    down,
    lostConnections,
    lostConnectionChecks,
    gone,
    droppedRequests,
    leases,
    node: (id) => nodes.get(id) as DaemonNode,
    registered: (id) => {
      for (const listener of registeredListeners.get(id) ?? []) listener();
    },
    async restart(id, restartOptions = {}) {
      const node = nodes.get(id) as DaemonNode;
      await node.close();
      handlers.delete(id);
      registeredListeners.set(id, []);
      return openNode(id, restartOptions.freshDisk === true ? new MemoryCheckpointStore() : node.checkpoints);
    },
    async close() {
      for (const node of nodes.values()) await node.close();
      await plane.close();
      backend.close();
    },
  };
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (payload: Uint8Array): string => new TextDecoder().decode(payload);
/** The deadline of the sends of the in-process daemons tests. */
export const SEND_TIMEOUT_MS = 5_000;

/** How long `followOutputs` waits for the outputs it expects. */
const FOLLOW_OUTPUTS_TIMEOUT_MS = 20_000;

/**
 * The first `count` outputs of daemon `name` (of replica `member`), followed from the start as
 * they land: a send answers before its outputs reach the output chain.
 */
export async function followOutputs(
  node: DaemonNode,
  name: string,
  count: number,
  member?: number,
): Promise<{ inboundOffset: number; index: number; payload: Uint8Array }[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FOLLOW_OUTPUTS_TIMEOUT_MS);
  const outputs = [];
  try {
    for await (const output of node.requests.outputs(name, 0, true, controller.signal, member)) {
      outputs.push(output);
      if (outputs.length === count) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  if (outputs.length < count) throw new Error(`${name}: ${outputs.length} of ${count} outputs in time`);
  return outputs;
}
