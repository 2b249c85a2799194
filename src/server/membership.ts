/**
 * Membership changes and leadership moves as etcd serves them: through any member. A follower
 * forwards the call to the leader over the peer request channel and answers what the leader
 * answered; the leader changes Raft's configuration and the replicated member directory.
 */
import {
  BadLeaderTransfereeError,
  type ClusterMember,
  checkPeerUrls,
  LeaderTransferTimeoutError,
  type MemberChange,
  MemberNotFoundError,
  MemberNotLearnerError,
  PeerUrlExistsError,
} from '../api/index.js';
import { type Clock, isMeshError, MeshError } from '../lib/index.js';
import { type ConfigChange, type NodeId, NotLeaderError, type RaftStatus } from '../raft/index.js';
import { type LeaderWait, neverProposed } from './leader-wait.js';
import type { MemberRecord } from './member-directory.js';
import { encodeNodeCommand, type NodeCommand } from './node-command.js';
import type { NodeApplyResult, NodeStateMachine } from './node-state-machine.js';
import type { RaftNode } from './raft-node.js';

/** A learner this close to the leader's commit index may be promoted. */
export const LEARNER_PROMOTION_LAG_ENTRIES = 100;
/** How long a leader removing itself waits for its successor to take over. */
export const REMOVE_LEADER_TRANSFER_TIMEOUT_MS = 2_000;
/** How long MoveLeader waits for the target to lead (etcd: "leader transfer took too long"). */
export const MOVE_LEADER_TIMEOUT_MS = 3_000;
/** How long a change waits for the previous configuration change to finish (joint, uncommitted). */
export const CONFIG_CHANGE_WAIT_MS = 3_000;
const CONFIG_CHANGE_RETRY_INTERVAL_MS = 20;
/** How long the leader waits for a removed member to take note before it stops reaching it. */
export const REMOVED_NOTICE_WAIT_MS = 1_000;

/** Sends a request to a peer and resolves with its answer (see `PeerChannels.request`). */
export type PeerRequest = (peer: NodeId, body: Uint8Array) => Promise<Uint8Array>;

export class LearnerNotReadyError extends MeshError {
  constructor(id: NodeId, match: number, commit: number) {
    super(
      'LEARNER_NOT_READY',
      `learner ${id} has ${match} of ${commit} committed entries; it cannot vote yet`,
      {
        details: { id, match, commit },
      },
    );
  }
}

type MembershipRequest =
  | {
      readonly op: 'add';
      readonly peerUrls: readonly string[];
      readonly isLearner: boolean;
      readonly name: string;
      readonly autoPromote: boolean;
    }
  | { readonly op: 'remove'; readonly id: NodeId }
  | { readonly op: 'promote'; readonly id: NodeId }
  | { readonly op: 'update'; readonly id: NodeId; readonly peerUrls: readonly string[] }
  | { readonly op: 'moveLeader'; readonly target: NodeId }
  /** From the leader to a member it removed: stop. */
  | { readonly op: 'removed'; readonly id: NodeId };

export class Membership {
  constructor(
    private readonly node: RaftNode<NodeApplyResult>,
    private readonly machine: NodeStateMachine,
    private readonly clock: Clock,
    /** Parks calls while no leader is known and hands refused ones to the next leader. */
    private readonly leaderWait: LeaderWait,
    /** Without it, calls that reach a follower answer NOT_LEADER. */
    private readonly request?: PeerRequest,
  ) {}

  /** Raft's members (voters of both halves of a joint configuration, learners) with their URLs. */
  members(): ClusterMember[] {
    const config = this.node.status().config;
    const voters = [...new Set([...config.voters, ...config.outgoingVoters])];
    return this.machine.members.toMembers(config.learners, voters);
  }

  add(
    peerUrls: readonly string[],
    isLearner: boolean,
    name = '',
    autoPromote = false,
  ): Promise<MemberChange> {
    return this.run({ op: 'add', peerUrls, isLearner, name, autoPromote });
  }

  remove(id: NodeId): Promise<MemberChange> {
    return this.run({ op: 'remove', id });
  }

  promote(id: NodeId): Promise<MemberChange> {
    return this.run({ op: 'promote', id });
  }

  update(id: NodeId, peerUrls: readonly string[]): Promise<MemberChange> {
    return this.run({ op: 'update', id, peerUrls });
  }

  async moveLeader(target: NodeId): Promise<void> {
    await this.run({ op: 'moveLeader', target });
  }

  /** Serves a call another member forwarded here; answers the encoded `MemberChange`. */
  async serveForwarded(body: Uint8Array): Promise<Uint8Array> {
    const request = JSON.parse(new TextDecoder().decode(body)) as MembershipRequest;
    if (request.op === 'removed') {
      if (request.id === this.node.id) this.node.markRemoved();
      return encodeAnswer({ members: [] });
    }
    if (!this.node.isLeader()) throw new NotLeaderError(this.node.leaderInfo().leaderId);
    return encodeAnswer(await this.serve(request));
  }

  /** Leader duty: promotes learners that joined with auto-promotion once they caught up. */
  promoteCaughtUpLearners(): void {
    const status = this.node.status();
    if (status.progress === undefined) return;
    for (const learner of status.config.learners) {
      if (this.machine.members.get(learner)?.autoPromote !== true) continue;
      if (!learnerCaughtUp(status, learner)) continue;
      this.node.proposeConfigChange({ type: 'promoteLearner', node: learner }).catch(() => {
        // Another change is in progress, or leadership moved; a later round tries again.
      });
      return;
    }
  }

  /**
   * Serves the call here when leading, otherwise on the leader; a call refused before it was
   * served (no leader yet, not the leader any more, a transfer under way) follows leadership.
   */
  private run(request: MembershipRequest): Promise<MemberChange> {
    return this.leaderWait.run(async (leader) => {
      if (leader.leaderId === this.node.id) return this.serve(request);
      if (this.request === undefined) throw new NotLeaderError(leader.leaderId);
      return decodeAnswer(await this.request(leader.leaderId, encodeRequest(request)));
    }, this.retryable);
  }

  private readonly retryable = (error: unknown): boolean =>
    this.request !== undefined && neverProposed(error);

  private async serve(request: MembershipRequest): Promise<MemberChange> {
    switch (request.op) {
      case 'add':
        return this.addHere(request.peerUrls, request.isLearner, request.name, request.autoPromote);
      case 'remove':
        return this.removeHere(request.id);
      case 'promote':
        return this.promoteHere(request.id);
      case 'update':
        return this.updateHere(request.id, request.peerUrls);
      case 'moveLeader':
        await this.moveLeaderHere(request.target);
        return { members: [] };
      case 'removed':
        throw new MeshError('BAD_REQUEST', 'a removal notice is not a client call');
    }
  }

  private async addHere(
    peerUrls: readonly string[],
    isLearner: boolean,
    name: string,
    autoPromote: boolean,
  ): Promise<MemberChange> {
    checkPeerUrls(peerUrls);
    this.checkUrlsFree(peerUrls, 0);
    const config = this.node.status().config;
    // Never an id used before: a removed member that comes back must not pass for a new one.
    const known = [...config.voters, ...config.learners, ...config.outgoingVoters];
    const id = Math.max(this.machine.members.highestId(), ...known) + 1;
    const record: MemberRecord = {
      id,
      name,
      peerUrls: [...peerUrls],
      clientUrls: [],
      ...(autoPromote ? { autoPromote } : {}),
    };
    await this.propose({ type: 'setMember', member: record });
    await this.changeConfig(
      isLearner ? { type: 'addLearner', node: id } : { type: 'changeVoters', add: [id], remove: [] },
    );
    return { member: { id, name, peerUrls, clientUrls: [], isLearner }, members: this.members() };
  }

  /**
   * Removes a member. A leader removing itself first hands leadership to its most caught-up
   * voter and has the successor commit the removal (as etcd does), so the cluster never waits
   * out an election timeout and the caller gets the real outcome.
   */
  private async removeHere(id: NodeId): Promise<MemberChange> {
    const config = this.node.status().config;
    if (id === this.node.id && config.voters.includes(id)) {
      const successor = await this.node.handOverLeadership(REMOVE_LEADER_TRANSFER_TIMEOUT_MS);
      if (successor === 0) throw new LeaderTransferTimeoutError(id, REMOVE_LEADER_TRANSFER_TIMEOUT_MS);
      return this.run({ op: 'remove', id });
    }
    if (config.learners.includes(id)) await this.changeConfig({ type: 'removeLearner', node: id });
    else if (config.voters.includes(id))
      await this.changeConfig({ type: 'changeVoters', add: [], remove: [id] });
    else throw new MemberNotFoundError(id);
    await this.noticeRemoved(id);
    // Applied after the leader's own leave-joint entry, so the answer shows the final members.
    await this.propose({ type: 'removeMember', id });
    return { members: this.members() };
  }

  /** Tells a removed member, while it is still reachable, so that it stops (best effort). */
  private async noticeRemoved(id: NodeId): Promise<void> {
    if (this.request === undefined || id === this.node.id) return;
    const notice = this.request(id, encodeRequest({ op: 'removed', id }));
    await new Promise<void>((resolve) => {
      const timer = this.clock.setTimer(REMOVED_NOTICE_WAIT_MS, () => resolve());
      // Down or unreachable: it learns of its removal from its own log, if ever it applies it.
      notice
        .catch(() => undefined)
        .finally(() => {
          this.clock.clearTimer(timer);
          resolve();
        });
    });
  }

  private async promoteHere(id: NodeId): Promise<MemberChange> {
    const status = this.node.status();
    if (status.config.voters.includes(id)) throw new MemberNotLearnerError(id);
    if (!status.config.learners.includes(id)) throw new MemberNotFoundError(id);
    if (!learnerCaughtUp(status, id))
      throw new LearnerNotReadyError(id, status.progress?.get(id)?.match ?? 0, status.commit);
    await this.changeConfig({ type: 'promoteLearner', node: id });
    return { members: this.members() };
  }

  /** New peer URLs for a member: replicated, so every node dials it there from now on. */
  private async updateHere(id: NodeId, peerUrls: readonly string[]): Promise<MemberChange> {
    checkPeerUrls(peerUrls);
    const config = this.node.status().config;
    if (!config.voters.includes(id) && !config.learners.includes(id)) throw new MemberNotFoundError(id);
    this.checkUrlsFree(peerUrls, id);
    const current = this.machine.members.get(id) ?? { id, name: '', peerUrls: [], clientUrls: [] };
    await this.propose({ type: 'setMember', member: { ...current, peerUrls: [...peerUrls] } });
    return { members: this.members() };
  }

  private async moveLeaderHere(target: NodeId): Promise<void> {
    if (!this.node.status().config.voters.includes(target)) throw new BadLeaderTransfereeError(target);
    if (target === this.node.id) return;
    const leader = await this.node.transferLeadershipAndWait(target, MOVE_LEADER_TIMEOUT_MS);
    if (leader !== target) throw new LeaderTransferTimeoutError(target, MOVE_LEADER_TIMEOUT_MS);
  }

  /** PEER_URL_EXISTS when another member than `owner` already uses one of `peerUrls`. */
  private checkUrlsFree(peerUrls: readonly string[], owner: NodeId): void {
    for (const member of this.machine.members.all()) {
      if (member.id === owner) continue;
      const taken = peerUrls.find((url) => member.peerUrls.includes(url));
      if (taken !== undefined) throw new PeerUrlExistsError(taken);
    }
  }

  /** Proposes a configuration change, waiting (bounded) for the one before it to finish. */
  private async changeConfig(change: ConfigChange): Promise<void> {
    const deadline = this.clock.nowMs() + CONFIG_CHANGE_WAIT_MS;
    for (;;) {
      try {
        await this.node.proposeConfigChange(change);
        return;
      } catch (error) {
        if (!isMeshError(error, 'CONFIG_CHANGE_PENDING') || this.clock.nowMs() >= deadline) throw error;
      }
      await new Promise<void>((resolve) =>
        this.clock.setTimer(CONFIG_CHANGE_RETRY_INTERVAL_MS, () => resolve()),
      );
    }
  }

  private async propose(command: NodeCommand): Promise<void> {
    await this.node.propose(encodeNodeCommand(command));
  }
}

/**
 * A learner may vote once the leader streams entries to it (not probing, not sending it a
 * snapshot) and it holds all but LEARNER_PROMOTION_LAG_ENTRIES of the committed log.
 */
function learnerCaughtUp(status: RaftStatus, id: NodeId): boolean {
  const progress = status.progress?.get(id);
  return (
    progress !== undefined &&
    progress.state === 'replicate' &&
    progress.match + LEARNER_PROMOTION_LAG_ENTRIES >= status.commit
  );
}

function encodeRequest(request: MembershipRequest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(request));
}

function encodeAnswer(answer: MemberChange): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(answer));
}

function decodeAnswer(bytes: Uint8Array): MemberChange {
  return JSON.parse(new TextDecoder().decode(bytes)) as MemberChange;
}
