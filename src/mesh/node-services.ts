/**
 * The services of a voter node, in the order they depend on each other. Each one puts what it
 * opened into `NodeParts` for the services after it and takes it out again when it closes.
 */

import { DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS, etcdPortServices, meshAccess } from '../api/index.js';
import { DEFAULT_CONTROL_ROOT } from '../control/index.js';
import { type Address, parseAddress, type StepDurations } from '../lib/index.js';
import { endOfTurn } from '../lib/node/index.js';
import {
  DEFAULT_ELECTION_TICKS,
  DEFAULT_HEARTBEAT_TICKS,
  DEFAULT_TICK_INTERVAL_MS,
  type NodeId,
} from '../raft/index.js';
import {
  type NodeApplyResult,
  NodeStateMachine,
  RaftKvBackend,
  RaftNode,
  snapshotPhaseOf,
} from '../server/index.js';
import { blobsService } from './blob-service.js';
import { chainReplicaRuntime } from './chain-replicas.js';
import { chainsService } from './chain-service.js';
import { clientPortService } from './client-port-service.js';
import { adminService, foundationServices, type IdentityLoader } from './common-services.js';
import { daemonsService } from './daemon-service.js';
import { LeaderChanges } from './leader-changes.js';
import { maintenanceService } from './maintenance-service.js';
import { voterControlPlaneService, voterMembershipService } from './membership-services.js';
import { createNodeMetrics, type NodeMetrics } from './metrics.js';
import { type MeshNodeConfig, raftDirectory } from './node-config.js';
import { loadOrCreateIdentity } from './node-identity.js';
import { type CommonServiceContext, part, SERVICE } from './node-parts.js';
import type { NodeService } from './node-service.js';
import { proximityService } from './proximity-service.js';
import { reconcileService } from './reconcile-service.js';
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

export interface NodeServiceContext extends CommonServiceContext {
  readonly config: MeshNodeConfig;
  /** The node's own longest synchronous steps, by source, for `/metrics`. */
  readonly steps: StepDurations;
}

/**
 * A voter's services: lock, identity, transport, Raft with the KV store, etcd API (and
 * `meshos.v1.Chains`, `meshos.v1.Daemons`), admin HTTP, the control plane in-process, membership, proximity and
 * chains.
 */
export function voterServices(context: NodeServiceContext): NodeService[] {
  return [
    ...foundationServices(context, voterIdentity(context)),
    raftService(context),
    etcdApiService(context),
    adminService(context, [SERVICE.raft]),
    voterControlPlaneService(context),
    voterMembershipService(context),
    maintenanceService(context),
    ...(context.config.proximity === false ? [] : [proximityService(context)]),
    chainsService(context, chainReplicaRuntime),
    daemonsService(context),
    reconcileService(context),
    blobsService(context),
  ];
}

/** The voter's identity: the one in its data directory, or its configured one written there. */
function voterIdentity({ config, disk }: NodeServiceContext): IdentityLoader {
  return async () => {
    const identity = await loadOrCreateIdentity(disk, config.dataDirectory, {
      id: config.id,
      name: config.name,
      clusterId: config.clusterId,
      initialPeers: [...config.initialPeers],
    });
    await refuseIfRemoved(disk, config.dataDirectory, config.id);
    return identity;
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
      parts.leaderChanges ??= new LeaderChanges(context.clock);
      const leaderChanges = parts.leaderChanges;
      leaderChanges.record(raft.leaderInfo());
      const stopRecording = raft.onLeaderChange((info) => leaderChanges.record(info));
      return {
        onFailure: (listener) => raft.onFailed(listener),
        close: async () => {
          stopRecording();
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
    ...(config.snapshotCount === undefined ? {} : { snapshotEveryEntries: config.snapshotCount }),
    // Members snapshot at indexes of their own, not all at once (snapshot-schedule.ts).
    snapshotPhase: snapshotPhaseOf(config.id),
    // A commit rides on the next append (or the next tick) unless a follower waits for it.
    deferCommitOnlyAppends: true,
    onPersisted: (durationMs) => metrics?.persistSeconds.observe(durationMs / 1000),
    onStep: steps.observe,
    onStepStart: steps.started,
    onTickTimer: (latenessMs) => metrics?.observeTickTimer(latenessMs),
    // A forwarded write's answer leaves in the turn its entry applied, with the Ready's messages.
    flushAfterReactions: () => endOfTurn.writeAfterReactions(),
    // What a peer message commits is applied in the poll phase that read it, so that the client
    // port's answers leave in this turn's check phase, not the next turn's.
    atCallbackEnd: queueMicrotask,
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
  channels.onRequest((from, body) => backend.handleForwarded(body, from));
  const authLogger = logger?.child({ part: 'auth' });
  backend.authRefusals.onRefusal = (refusal) => authLogger?.warn(refusal, 'auth: request refused');

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
    transport.setPeerSet(SERVICE.raft, peers);
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

function etcdApiService(context: NodeServiceContext): NodeService {
  const { parts, clock } = context;
  return clientPortService(context, {
    name: SERVICE.etcdApi,
    role: 'etcd v3 gRPC API and MeshOS services for clients',
    dependsOn: [SERVICE.raft],
    serve: (logger) => ({
      etcdServices: etcdPortServices(part(parts, 'backend'), {
        logger,
        clock,
        progressNotifyIntervalMs: DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS,
      }).services,
      // The same roles as the KV, by the control-plane key of what a call touches.
      access: meshAccess(() => parts.backend, DEFAULT_CONTROL_ROOT),
    }),
  });
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
