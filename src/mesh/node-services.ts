/**
 * The services of a voter node, in the order they depend on each other. Each one puts what it
 * opened into `NodeParts` for the services after it and takes it out again when it closes.
 */
import { type EtcdApiServer, startEtcdApiServer } from '../api/index.js';
import type { ControlPlane } from '../control/index.js';
import {
  type Address,
  assert,
  type Clock,
  type Disk,
  formatAddress,
  type Logger,
  parseAddress,
  type Random,
  type StepDurations,
} from '../lib/index.js';
import {
  DEFAULT_ELECTION_TICKS,
  DEFAULT_HEARTBEAT_TICKS,
  DEFAULT_TICK_INTERVAL_MS,
  type NodeId,
} from '../raft/index.js';
import {
  type AdminServer,
  type AdminStatusSource,
  type NodeApplyResult,
  NodeStateMachine,
  PeerChannels,
  RaftKvBackend,
  RaftNode,
  startAdminServer,
} from '../server/index.js';
import {
  createTcpTransport,
  loadTlsMaterial,
  type PeerTransport,
  type TlsMaterial,
} from '../transport/index.js';
import { DataDirectoryLock } from './data-directory-lock.js';
import type { Membership } from './membership.js';
import { controlPlaneService, membershipService } from './membership-services.js';
import { createNodeMetrics, type NodeMetrics } from './metrics.js';
import { type MeshNodeConfig, raftDirectory } from './node-config.js';
import { loadOrCreateIdentity, type NodeIdentity } from './node-identity.js';
import type { NodeService } from './node-service.js';
import { refuseIfRemoved } from './removed-mark.js';

/** How long a stopping leader waits for another node to take over before it just stops. */
export const SHUTDOWN_TRANSFER_TIMEOUT_MS = 2_000;
/**
 * Opening Raft replays the log and restores the newest snapshot; stopping it hands leadership
 * over and finishes the writes in flight. Generous, because a force-stopped Raft would keep
 * writing after the lock is released.
 */
export const RAFT_START_TIMEOUT_MS = 600_000;
export const RAFT_SHUTDOWN_TIMEOUT_MS = 60_000;
/** The lock is retried while a dead holder's claim is cleared (see data-directory-lock.ts). */
export const DATA_DIRECTORY_LOCK_START_TIMEOUT_MS = 60_000;

/** What the services opened so far, for the services that depend on them. */
export interface NodeParts {
  lock?: DataDirectoryLock;
  identity?: NodeIdentity;
  tls?: TlsMaterial;
  transport?: PeerTransport;
  channels?: PeerChannels;
  peerAddress?: Address;
  raft?: RaftNode<NodeApplyResult>;
  machine?: NodeStateMachine;
  backend?: RaftKvBackend;
  metrics?: NodeMetrics;
  /** The ports actually bound; a restarted service binds the same one again. */
  clientAddress?: Address;
  adminAddress?: Address;
  controlPlane?: ControlPlane;
  membership?: Membership;
}

/** The part `key`, which a service this one depends on has opened. */
export function part<K extends keyof NodeParts>(parts: NodeParts, key: K): NonNullable<NodeParts[K]> {
  const value = parts[key];
  assert(value !== undefined, `node part '${key}' is used before the service that opens it is ready`);
  return value as NonNullable<NodeParts[K]>;
}

export interface NodeServiceContext {
  readonly config: MeshNodeConfig;
  readonly parts: NodeParts;
  readonly disk: Disk;
  /** The node's own longest synchronous steps, by source, for `/metrics`. */
  readonly steps: StepDurations;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  /** The lock the caller took already (`meshos join`), adopted instead of taken. */
  readonly heldLock?: DataDirectoryLock;
  /** What `/status`, `/health` and `/ready` answer, and the test-only crash endpoint. */
  readonly adminSource: AdminStatusSource;
}

/** Service names, as `/status` shows them and tests crash them. */
export const SERVICE = {
  lock: 'data-directory-lock',
  identity: 'identity',
  transport: 'peer-transport',
  raft: 'raft',
  etcdApi: 'etcd-api',
  admin: 'admin-http',
  controlPlane: 'control-plane',
  membership: 'membership',
} as const;

/**
 * A voter's services: lock, identity, transport, Raft with the KV store, etcd API, admin HTTP,
 * the control plane in-process, and membership.
 */
export function voterServices(context: NodeServiceContext): NodeService[] {
  return [
    lockService(context),
    identityService(context),
    transportService(context),
    raftService(context),
    etcdApiService(context),
    adminService(context),
    controlPlaneService(context),
    membershipService(context),
  ];
}

function lockService({ config, parts, heldLock }: NodeServiceContext): NodeService {
  return {
    name: SERVICE.lock,
    role: 'one process per data directory',
    policy: 'critical',
    startTimeoutMs: DATA_DIRECTORY_LOCK_START_TIMEOUT_MS,
    async open() {
      // Before any file of the directory is read: a second process must not run on it.
      const lock = heldLock ?? (await DataDirectoryLock.acquire(config.dataDirectory));
      parts.lock = lock;
      return {
        close: async () => {
          delete parts.lock;
          await lock.release();
        },
      };
    },
  };
}

function identityService({ config, parts, disk }: NodeServiceContext): NodeService {
  return {
    name: SERVICE.identity,
    role: 'node identity and certificates',
    dependsOn: [SERVICE.lock],
    policy: 'critical',
    async open() {
      parts.identity = await loadOrCreateIdentity(disk, config.dataDirectory, {
        id: config.id,
        name: config.name,
        clusterId: config.clusterId,
        initialPeers: [...config.initialPeers],
      });
      await refuseIfRemoved(disk, config.dataDirectory, config.id);
      if (!config.insecure) parts.tls = await loadTlsMaterial(config.certificateDirectory ?? '', config.id);
      return {
        close: async () => {
          delete parts.identity;
          delete parts.tls;
        },
      };
    },
  };
}

function transportService({ config, parts, clock, random, logger }: NodeServiceContext): NodeService {
  return {
    name: SERVICE.transport,
    role: 'peer links (mutual TLS)',
    dependsOn: [SERVICE.identity],
    // Raft's link and the forwarding channel are bound to it: see docs/SUPERVISION.md.
    policy: 'critical',
    async open() {
      const tls = parts.tls;
      const transport = createTcpTransport({
        nodeId: config.id,
        clusterId: config.clusterId,
        listenAddress: config.peerAddress,
        clock,
        random: random.fork('transport'),
        ...(logger === undefined ? {} : { logger: logger.child({ part: 'transport' }) }),
        ...(tls === undefined ? { insecure: true } : { tls }),
      });
      parts.peerAddress = await transport.start();
      parts.transport = transport;
      parts.channels = new PeerChannels(transport, clock);
      return {
        close: async () => {
          parts.channels?.close();
          delete parts.channels;
          delete parts.transport;
          await transport.stop();
        },
      };
    },
  };
}

function raftService(context: NodeServiceContext): NodeService {
  const { parts } = context;
  return {
    name: SERVICE.raft,
    role: 'Raft log and the replicated key-value store',
    dependsOn: [SERVICE.transport],
    // Its state lives in the log on disk: a restart is a process restart (the log is replayed).
    policy: 'critical',
    startTimeoutMs: RAFT_START_TIMEOUT_MS,
    shutdownTimeoutMs: RAFT_SHUTDOWN_TIMEOUT_MS,
    async open() {
      const { raft, machine, backend, metrics } = await openRaft(context);
      parts.raft = raft;
      parts.machine = machine;
      parts.backend = backend;
      parts.metrics = metrics;
      return {
        onFailure: (listener) => raft.onFailed(listener),
        close: async () => {
          backend.close();
          await raft.stop(SHUTDOWN_TRANSFER_TIMEOUT_MS);
          metrics.close();
        },
      };
    },
  };
}

async function openRaft({ config, parts, disk, steps, clock, random, logger }: NodeServiceContext): Promise<{
  raft: RaftNode<NodeApplyResult>;
  machine: NodeStateMachine;
  backend: RaftKvBackend;
  metrics: NodeMetrics;
}> {
  const identity = part(parts, 'identity');
  const channels = part(parts, 'channels');
  const transport = part(parts, 'transport');
  const initialPeers = new Map(identity.initialPeers);
  const machine = new NodeStateMachine();
  let metrics: NodeMetrics | undefined;
  const tickIntervalMs = config.tickIntervalMs ?? DEFAULT_TICK_INTERVAL_MS;
  const electionTicks = config.electionTicks ?? DEFAULT_ELECTION_TICKS;
  const raft = await RaftNode.start<NodeApplyResult>({
    id: config.id,
    dataDirectory: raftDirectory(config),
    initialVoters: [...initialPeers.keys()],
    disk,
    clock,
    random: random.fork('raft'),
    link: channels.raftLink(),
    stateMachine: machine,
    tickIntervalMs,
    electionTicks,
    heartbeatTicks: config.heartbeatTicks ?? DEFAULT_HEARTBEAT_TICKS,
    onPersisted: (durationMs) => metrics?.persistSeconds.observe(durationMs / 1000),
    onStep: steps.observe,
    onProposalSettled: (applied) => {
      metrics?.proposals.inc();
      if (!applied) metrics?.proposalFailures.inc();
    },
    ...(logger === undefined ? {} : { logger: logger.child({ part: 'raft' }) }),
  });
  const backend = new RaftKvBackend(raft, machine, {
    clusterId: clusterIdNumber(config.clusterId),
    clock,
    electionTimeoutMs: tickIntervalMs * electionTicks,
    forward: (leader, body) => channels.request(leader, body),
    ...(config.quotaBackendBytes === undefined ? {} : { quotaBackendBytes: config.quotaBackendBytes }),
    ...(config.autoCompaction === undefined ? {} : { autoCompaction: config.autoCompaction }),
  });
  channels.onRequest((_from, body) => backend.handleForwarded(body));

  const refreshPeers = (): void => {
    // A joined node stores no initial peers; the ones given to this start (`--peers`) let it
    // reach the cluster (or hear it was removed) before its member directory has caught up.
    const peers = new Map<NodeId, Address>([
      ...(config.seedPeers ?? []),
      ...config.initialPeers,
      ...initialPeers,
    ]);
    for (const member of machine.members.all()) {
      const url = member.peerUrls[0];
      if (url !== undefined) peers.set(member.id, parseAddress(url.replace(/^[a-z]+:\/\//, '')));
    }
    peers.delete(config.id);
    transport.setPeers(peers);
  };
  machine.members.onChange = refreshPeers;
  refreshPeers();
  // A member removed while it was down or cut off hears of it from the first peer it reaches.
  transport.refuseRemovedMembers((peer) => machine.members.isRemoved(peer));
  transport.onRefused((reason) => {
    if (reason === 'removed-member') raft.markRemoved();
  });
  metrics = createNodeMetrics(raft, transport, machine, backend, steps);
  return { raft, machine, backend, metrics };
}

function etcdApiService({ config, parts, clock, logger }: NodeServiceContext): NodeService {
  return {
    name: SERVICE.etcdApi,
    role: 'etcd v3 gRPC API for clients',
    dependsOn: [SERVICE.raft],
    policy: 'restartable',
    async open() {
      const api: EtcdApiServer = await startEtcdApiServer({
        address: formatAddress(parts.clientAddress ?? config.clientAddress),
        backend: part(parts, 'backend'),
        clock,
        ...(logger === undefined ? {} : { logger: logger.child({ part: 'api' }) }),
      });
      parts.clientAddress = parseAddress(api.address);
      return { close: () => api.close() };
    },
  };
}

function adminService({ config, parts, adminSource }: NodeServiceContext): NodeService {
  return {
    name: SERVICE.admin,
    role: 'admin HTTP: /metrics, /health, /ready, /status',
    dependsOn: [SERVICE.raft],
    policy: 'restartable',
    async open() {
      const admin: AdminServer = await startAdminServer(
        parts.adminAddress ?? config.adminAddress,
        part(parts, 'metrics').registry,
        adminSource,
      );
      parts.adminAddress = admin.address;
      return { close: () => admin.close() };
    },
  };
}

/** A stable 64-bit number for the cluster's name, as etcd headers carry it. */
export function clusterIdNumber(clusterId: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(clusterId)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}
