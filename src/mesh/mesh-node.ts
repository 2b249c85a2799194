import { type EtcdApiServer, startEtcdApiServer } from '../api/index.js';
import {
  type Address,
  type Clock,
  type Disk,
  formatAddress,
  type Logger,
  parseAddress,
  type Random,
  StepDurations,
  SystemClock,
  systemRandom,
} from '../lib/index.js';
import { NodeDisk } from '../lib/node/index.js';
import {
  DEFAULT_ELECTION_TICKS,
  DEFAULT_HEARTBEAT_TICKS,
  DEFAULT_TICK_INTERVAL_MS,
  type NodeId,
} from '../raft/index.js';
import {
  type AdminServer,
  type LeaderInfo,
  type NodeApplyResult,
  NodeStateMachine,
  PeerChannels,
  RaftKvBackend,
  RaftNode,
  startAdminServer,
} from '../server/index.js';
import { createTcpTransport, loadTlsMaterial, type PeerTransport } from '../transport/index.js';
import { DataDirectoryLock } from './data-directory-lock.js';
import { createNodeMetrics, type NodeMetrics } from './metrics.js';
import { type MeshNodeConfig, raftDirectory, validateMeshNodeConfig } from './node-config.js';
import { loadOrCreateIdentity } from './node-identity.js';
import { refuseIfRemoved, writeRemovedMark } from './removed-mark.js';

/** How long a stopping leader waits for another node to take over before it just stops. */
export const SHUTDOWN_TRANSFER_TIMEOUT_MS = 2_000;

export interface MeshNodeDependencies {
  /**
   * The lock on `config.dataDirectory` when the caller took it already (`meshos join` takes it
   * before it asks the cluster for an id); otherwise the node takes it. The node releases it
   * when it stops.
   */
  readonly dataDirectoryLock?: DataDirectoryLock;
  readonly disk?: Disk;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
}

/** Why `MeshNode.run` returned: asked to stop, or removed from the cluster by a member change. */
export type NodeExit = 'stopped' | 'removed';

/** The addresses a running node actually listens on (port 0 resolved). */
export interface MeshNodeEndpoints {
  readonly peer: Address;
  readonly client: Address;
  readonly admin: Address;
}

/**
 * One MeshOS node: peer transport, Raft host with the replicated key-value store, the etcd
 * v3 API for clients and the admin HTTP port, started in that order and stopped in reverse.
 */
export class MeshNode {
  private constructor(
    readonly config: MeshNodeConfig,
    readonly endpoints: MeshNodeEndpoints,
    readonly raft: RaftNode<NodeApplyResult>,
    readonly backend: RaftKvBackend,
    readonly metrics: NodeMetrics,
    private readonly transport: PeerTransport,
    private readonly channels: PeerChannels,
    private readonly api: EtcdApiServer,
    private readonly admin: AdminServer,
    private readonly lock: DataDirectoryLock,
    private readonly disk: Disk,
  ) {}

  static async start(config: MeshNodeConfig, dependencies: MeshNodeDependencies = {}): Promise<MeshNode> {
    validateMeshNodeConfig(config);
    // Before any file of the directory is read: a second process must not run on it.
    const lock = dependencies.dataDirectoryLock ?? (await DataDirectoryLock.acquire(config.dataDirectory));
    try {
      return await MeshNode.startLocked(config, dependencies, lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private static async startLocked(
    config: MeshNodeConfig,
    dependencies: MeshNodeDependencies,
    lock: DataDirectoryLock,
  ): Promise<MeshNode> {
    const steps = new StepDurations();
    const disk =
      dependencies.disk ??
      new NodeDisk({ inlineWrites: config.walOnThreadPool !== true, onStep: steps.observe });
    const clock = dependencies.clock ?? new SystemClock();
    const random = dependencies.random ?? systemRandom();
    const identity = await loadOrCreateIdentity(disk, config.dataDirectory, {
      id: config.id,
      name: config.name,
      clusterId: config.clusterId,
      initialPeers: [...config.initialPeers],
    });
    await refuseIfRemoved(disk, config.dataDirectory, config.id);
    const initialPeers = new Map(identity.initialPeers);

    const transport = createTcpTransport({
      nodeId: config.id,
      clusterId: config.clusterId,
      listenAddress: config.peerAddress,
      clock,
      random: random.fork('transport'),
      ...(dependencies.logger === undefined
        ? {}
        : { logger: dependencies.logger.child({ part: 'transport' }) }),
      ...(config.insecure
        ? { insecure: true }
        : { tls: await loadTlsMaterial(config.certificateDirectory ?? '', config.id) }),
    });
    const peerAddress = await transport.start();
    const channels = new PeerChannels(transport, clock);

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
      ...(dependencies.logger === undefined ? {} : { logger: dependencies.logger.child({ part: 'raft' }) }),
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
      const peers = new Map<NodeId, Address>([...(config.seedPeers ?? []), ...initialPeers]);
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

    const api = await startEtcdApiServer({
      address: formatAddress(config.clientAddress),
      backend,
      clock,
      ...(dependencies.logger === undefined ? {} : { logger: dependencies.logger.child({ part: 'api' }) }),
    });
    metrics = createNodeMetrics(raft, transport, machine, backend, steps);
    const nodeMetrics = metrics;
    const admin = await startAdminServer(config.adminAddress, metrics.registry, {
      health: () => ({ ok: true, detail: { id: config.id } }),
      readiness: () => ({
        ok: raft.isReady(),
        detail: { leaderId: raft.leaderInfo().leaderId, applied: raft.applied, commit: raft.status().commit },
      }),
      status: () => statusView(raft),
    });
    const endpoints = { peer: peerAddress, client: parseAddress(api.address), admin: admin.address };
    const node = new MeshNode(
      config,
      endpoints,
      raft,
      backend,
      nodeMetrics,
      transport,
      channels,
      api,
      admin,
      lock,
      disk,
    );
    node.announceWhenLeaderKnown();
    return node;
  }

  leaderInfo(): LeaderInfo {
    return this.raft.leaderInfo();
  }

  isLeader(): boolean {
    return this.raft.isLeader();
  }

  /** Resolves once a leader is known and this node has applied what was committed. */
  waitReady(timeoutMs: number): Promise<void> {
    return this.raft.waitReady(timeoutMs);
  }

  /** Calls `listener` with (leader id, term) on every leader change; returns an unsubscribe. */
  onLeaderChange(listener: (info: LeaderInfo) => void): () => void {
    return this.raft.onLeaderChange(listener);
  }

  /**
   * Serves until `signal` aborts or this member is removed from the cluster, then stops cleanly
   * (calls in progress are answered first); tells which of the two ended it.
   */
  async run(signal: AbortSignal): Promise<NodeExit> {
    const exit = await new Promise<NodeExit>((resolve) => {
      if (this.raft.isRemoved) resolve('removed');
      if (signal.aborted) resolve('stopped');
      this.raft.onRemoved(() => resolve('removed'));
      signal.addEventListener('abort', () => resolve('stopped'), { once: true });
    });
    // Under the directory lock, before the answers in progress are awaited.
    if (exit === 'removed') await writeRemovedMark(this.disk, this.config.dataDirectory, this.config.id);
    await this.stop();
    return exit;
  }

  /** Stops clients first, then hands off leadership, then Raft and the transport. */
  async stop(): Promise<void> {
    await this.admin.close();
    await this.api.close();
    this.backend.close();
    await this.raft.stop(SHUTDOWN_TRANSFER_TIMEOUT_MS);
    this.channels.close();
    await this.transport.stop();
    this.metrics.close();
    await this.lock.release();
  }

  /** Publishes this node's addresses in the replicated member directory once a leader exists. */
  private announceWhenLeaderKnown(): void {
    const record = {
      id: this.config.id,
      name: this.config.name,
      peerUrls: [`http://${formatAddress(this.endpoints.peer)}`],
      clientUrls: [`http://${formatAddress(this.endpoints.client)}`],
    };
    const attempt = (): void => {
      this.backend.announce(record).catch(() => {
        // No leader yet, or it changed; the next leader change tries again.
      });
    };
    this.raft.onLeaderChange((info) => {
      if (info.leaderId !== 0) attempt();
    });
    if (this.raft.leaderInfo().leaderId !== 0) attempt();
  }
}

function statusView(raft: RaftNode<NodeApplyResult>): Record<string, unknown> {
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

/** A stable 64-bit number for the cluster's name, as etcd headers carry it. */
export function clusterIdNumber(clusterId: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(clusterId)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}

/** Builds and starts a node: `await new NodeBuilder(config).start()`, then `node.run(signal)`. */
export class NodeBuilder {
  constructor(
    private readonly config: MeshNodeConfig,
    private readonly dependencies: MeshNodeDependencies = {},
  ) {}

  start(): Promise<MeshNode> {
    return MeshNode.start(this.config, this.dependencies);
  }
}
