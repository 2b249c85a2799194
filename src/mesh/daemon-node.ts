/**
 * A node's daemons parts wired together: the definitions it follows drive its members (started,
 * updated, stopped), wake the coordinator and the sends waiting for a change; `DaemonRequests`
 * serves the node's `DaemonsBackend` and the other nodes' requests; the coordinator fails over
 * daemons whose active's node is gone. The daemons service opens one per start; tests open
 * several over in-memory chains and a shared control plane.
 */
import type { ChainsBackend } from '../api/index.js';
import type { ChainDirectory } from '../chains/index.js';
import type { ControlPlane } from '../control/index.js';
import { DaemonDirectory } from '../daemons/directory.js';
import type { DaemonPlacementNode } from '../daemons/placement.js';
import type { DaemonKindCatalog } from '../daemons/types.js';
import { ChangeWaiters, type Clock, type Logger, type NodeId, type Random } from '../lib/index.js';
import type { PeerChannelLink } from '../server/index.js';
import type { NodeLease } from './daemon-active-fence.js';
import { ActiveChainLeads } from './daemon-chain-leads.js';
import type { MemberCheckpointStore } from './daemon-checkpoint-store.js';
import { fetchMemberCheckpoint } from './daemon-checkpoint-transfer.js';
import { DaemonCoordinator, type DaemonCoordinatorOptions } from './daemon-coordinator.js';
import type { DaemonMember } from './daemon-member.js';
import type { CheckpointThresholds } from './daemon-member-checkpoints.js';
import { DaemonMembers } from './daemon-members.js';
import { DaemonPeerRequests } from './daemon-peer-requests.js';
import { DaemonRequests } from './daemon-requests.js';
import { claimTrimStart, publishTrimFloor } from './daemon-trim-floor.js';
import { DesiredMembersFollower } from './desired-members-follower.js';

/** Reads of its definition an active tries after its node registered again, and the pause between. */
export const MAX_ACTIVE_CONFIRM_ATTEMPTS = 20;
export const ACTIVE_CONFIRM_RETRY_MS = 500;

export interface DaemonsNodeOptions {
  readonly self: NodeId;
  readonly plane: ControlPlane;
  readonly chains: ChainsBackend;
  readonly chainDirectory: Pick<ChainDirectory, 'create' | 'delete'>;
  readonly catalog: DaemonKindCatalog;
  /** The daemons channel of the peer transport. */
  readonly link: PeerChannelLink;
  /** The mesh's nodes and whether each can run a member now. */
  readonly nodes: () => readonly DaemonPlacementNode[];
  readonly onNodesChange: DaemonCoordinatorOptions['onNodesChange'];
  readonly rttMs: DaemonCoordinatorOptions['rttMs'];
  readonly chainsOf?: DaemonCoordinatorOptions['chainsOf'];
  /**
   * The node's registration: the lease its actives serve under, and a call after each new
   * registration (a new lease), when each active re-reads its definition to serve on. Absent:
   * actives are fenced by epochs alone (tests without registrations).
   */
  readonly registration?: {
    readonly lease: () => NodeLease | undefined;
    readonly onRegistered: (listener: () => void) => () => void;
  };
  /** Where members keep their checkpoints (the node's disk); none: in memory only. */
  readonly checkpoints?: MemberCheckpointStore;
  /** When members take checkpoints (default every `MEMBER_CHECKPOINT_EVERY_EVENTS` records). */
  readonly checkpointEvery?: CheckpointThresholds;
  /** How long a move's target keeps what it prepared (default `PREPARED_MEMBER_TTL_MS`). */
  readonly preparedTtlMs?: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
}

export interface DaemonsNode {
  readonly directory: DaemonDirectory;
  /** Takes the chains of this node's actives back when they are led elsewhere (with `chainsOf`). */
  readonly chainLeads: ActiveChainLeads | undefined;
  readonly members: DaemonMembers;
  readonly requests: DaemonRequests;
  readonly coordinator: DaemonCoordinator;
  /** Stops the coordinator, the following, the peer requests and the members, in that order. */
  close(): Promise<void>;
}

export function openDaemonsNode(options: DaemonsNodeOptions): DaemonsNode {
  const { self, plane, chains, catalog, nodes, clock, logger } = options;
  const withLogger = logger === undefined ? {} : { logger };
  const directory = new DaemonDirectory(plane);
  const peers = new DaemonPeerRequests(options.link, clock, logger);
  const registration = options.registration;
  const members = new DaemonMembers({
    self,
    catalog,
    chains,
    ...(registration === undefined ? {} : { nodeLease: registration.lease }),
    fetchFrom: (node, name, minAppliedThrough) => fetchMemberCheckpoint(peers, node, name, minAppliedThrough),
    ...(options.checkpoints === undefined ? {} : { checkpoints: options.checkpoints }),
    ...(options.checkpointEvery === undefined ? {} : { checkpointEvery: options.checkpointEvery }),
    ...(options.preparedTtlMs === undefined ? {} : { preparedTtlMs: options.preparedTtlMs }),
    // Raises the inbound chain's trim floor once every member checkpointed past it.
    onCheckpointSaved: (daemon, appliedThrough) => {
      publishTrimFloor(plane, daemon, self, appliedThrough).catch((error: unknown) => {
        logger?.warn({ err: error, daemon }, 'daemons: publishing the trim floor failed');
      });
    },
    // A member's start replaces its node's record first: a replaced disk leaves a stale one.
    claimStart: (daemon, offset) => claimTrimStart(plane, daemon, self, offset),
    clock,
    ...withLogger,
  });
  const changed = new ChangeWaiters(clock);
  let coordinator: DaemonCoordinator | undefined;
  let chainLeads: ActiveChainLeads | undefined;
  const follower = directory.follow((daemons) => {
    members.reconcile(daemons);
    coordinator?.notify();
    void chainLeads?.notify();
    changed.wakeAll();
  }, clock);
  const desiredMembers = new DesiredMembersFollower(plane, clock);
  const requests = new DaemonRequests({
    self,
    directory,
    chainDirectory: options.chainDirectory,
    chains,
    catalog,
    members,
    peers,
    definitions: () => follower.daemons,
    desiredMembers: (daemon) => desiredMembers.membersOf(daemon),
    nextChange: (timeoutMs) => changed.next(timeoutMs),
    nodes,
    ...(options.chainsOf === undefined ? {} : { chainsOf: options.chainsOf }),
    clock,
    ...withLogger,
  });
  coordinator = new DaemonCoordinator({
    plane,
    directory,
    self,
    definitions: () => follower.daemons,
    nodes,
    onNodesChange: options.onNodesChange,
    progressOf: (name, node) => requests.progressOf(name, node),
    rttMs: options.rttMs,
    ...(options.chainsOf === undefined ? {} : { chainsOf: options.chainsOf }),
    clock,
    random: options.random,
    ...(logger === undefined ? {} : { logger: logger.child({ part: 'daemon-coordinator' }) }),
  });
  coordinator.start();
  const started = coordinator;
  const chainsOf = options.chainsOf;
  if (chainsOf !== undefined) {
    chainLeads = new ActiveChainLeads({
      self,
      directory,
      members,
      definitions: () => follower.daemons,
      chainsHere: () => chains.list(),
      chainsOf,
      clock,
      ...withLogger,
    });
    chainLeads.start();
  }
  const leads = chainLeads;
  // After a new registration, each active serves on only if the control plane still names it.
  let closed = false;
  const confirm = async (member: DaemonMember): Promise<void> => {
    for (let attempt = 1; !closed && attempt <= MAX_ACTIVE_CONFIRM_ATTEMPTS; attempt++) {
      try {
        const stored = await directory.get(member.name);
        if (stored !== undefined) member.confirm(stored.definition);
        return;
      } catch (error) {
        logger?.warn({ err: error, daemon: member.name, attempt }, 'daemons: confirming the active failed');
        await new Promise<void>((resolve) => clock.setTimer(ACTIVE_CONFIRM_RETRY_MS, resolve));
      }
    }
  };
  const unsubscribe = registration?.onRegistered(() => {
    for (const member of members.all()) if (member.active) void confirm(member);
  });
  return {
    directory,
    chainLeads: leads,
    members,
    requests,
    coordinator: started,
    async close() {
      closed = true;
      unsubscribe?.();
      await started.stop();
      await leads?.stop();
      follower.stop();
      desiredMembers.stop();
      peers.close();
      await members.close();
      changed.wakeAll();
    },
  };
}
