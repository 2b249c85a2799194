import {
  type AnswerTo,
  answerOf,
  type BackendStatus,
  type ClientSession,
  type ClusterMember,
  describeAlarm,
  type KvBackend,
  type LeaseTimeToLiveAnswer,
  type MemberChange,
  type RequestOptions,
} from '../api/index.js';
import {
  type AuthCommand,
  AuthRefusals,
  type AuthStateView,
  kvCommandRefusal,
  watchRefusal,
} from '../auth/index.js';
import {
  type AlarmMember,
  DEFAULT_QUOTA_BACKEND_BYTES,
  decodeKvResult,
  exceedsQuota,
  type KvCommand,
  type KvHash,
  type LeaseStatus,
  Lessor,
  MAX_REQUEST_BYTES,
  NoSpaceError,
  type RangeRequest,
  type RangeResponse,
  RequestTooLargeError,
  validateKvCommand,
  type Watcher,
  type WatchRequest,
  writeKvResult,
} from '../kv/index.js';
import { BinaryReader, BinaryWriter, type Clock, dataViewOf, MeshError, type TimerId } from '../lib/index.js';
import { traceStage } from '../lib/node/index.js';
import { type NodeId, NotLeaderError } from '../raft/index.js';
import type { AutoCompactionConfig } from './auto-compaction-policy.js';
import { AutoCompactor } from './auto-compactor.js';
import { LeaderWait, leaderWaitMs, neverProposed, readRetryable } from './leader-wait.js';
import type { MemberRecord } from './member-directory.js';
import { Membership } from './membership.js';
import { encodeNodeCommand, type NodeCommand, tagged } from './node-command.js';
import type { NodeApplyResult, NodeStateMachine } from './node-state-machine.js';
import type { RaftNode } from './raft-node.js';

/** How often the leader looks for expired leases and learners ready for promotion. */
export const LEADER_DUTY_INTERVAL_MS = 100;

export const MESHOS_VERSION = '0.1.0';

/** Hands a request to the leader and answers what it answered (see `PeerChannels`). */
export type ForwardToLeader = (leader: NodeId, body: Uint8Array) => Promise<Uint8Array>;

const FORWARD_PROPOSAL = 1;
const FORWARD_KEEPALIVE = 2;
const FORWARD_MEMBERSHIP = 3;
/**
 * Longest a follower holds a forwarded write's answer for its own apply to catch up (see
 * `appliedHere`): a member cut off right after the answer still answers.
 */
export const FORWARDED_APPLY_WAIT_MS = 1_000;

export interface RaftKvBackendOptions {
  readonly clusterId: bigint;
  readonly clock: Clock;
  /** Followers pass writes and keepalives to the leader with this; without it they answer NOT_LEADER. */
  readonly forward?: ForwardToLeader;
  /** Added to every lease's TTL when this node becomes leader: clients could not renew meanwhile. */
  readonly electionTimeoutMs: number;
  /** Space quota (`--quota-backend-bytes`); `DEFAULT_QUOTA_BACKEND_BYTES` if unset. */
  readonly quotaBackendBytes?: number;
  /** Compacts history on the leader (`--auto-compaction-*`); off if unset. */
  readonly autoCompaction?: AutoCompactionConfig;
}

/** The key-value API served by one Raft node: writes through the log, reads by ReadIndex. */
export class RaftKvBackend implements KvBackend {
  readonly clusterId: bigint;
  readonly memberId: NodeId;
  private readonly lessor = new Lessor();
  private readonly leaderWait: LeaderWait;
  readonly compactor: AutoCompactor | undefined;
  private readonly membership: Membership;
  private dutyTimer: TimerId | undefined;
  private closed = false;
  readonly authRefusals = new AuthRefusals();
  /** This node's NOSPACE alarm while it is being proposed, so a burst of writes proposes it once. */
  private raisingNoSpace: Promise<void> | undefined;

  constructor(
    private readonly node: RaftNode<NodeApplyResult>,
    private readonly machine: NodeStateMachine,
    private readonly options: RaftKvBackendOptions,
  ) {
    this.clusterId = options.clusterId;
    this.memberId = node.id;
    this.leaderWait = new LeaderWait(options.clock, () => node.leaderInfo());
    const forward = options.forward;
    this.membership = new Membership(
      node,
      machine,
      options.clock,
      this.leaderWait,
      forward === undefined ? undefined : (peer, body) => forward(peer, tagged(FORWARD_MEMBERSHIP, body)),
    );
    machine.onLeaseChanges = (changes) => this.lessor.observe(changes, this.now());
    machine.onRestore = () => this.lessor.reset(machine.kv.leaseList(), this.now());
    this.lessor.reset(machine.kv.leaseList(), this.now());
    this.compactor =
      options.autoCompaction === undefined
        ? undefined
        : new AutoCompactor(options.autoCompaction, {
            currentRevision: () => machine.kv.revision,
            compactRevision: () => machine.kv.compactRevision,
            stepTowards: (target, maxRecords) => machine.kv.compactionStep(target, maxRecords),
            compact: async (revision) => {
              await this.execute({ type: 'compact', revision });
            },
          });
    node.onLeaderChange((info) => {
      if (info.leaderId === node.id) this.lessor.promote(this.now(), options.electionTimeoutMs);
      else {
        this.lessor.demote();
        this.compactor?.reset();
      }
      this.leaderWait.leaderChanged(info);
    });
    if (node.isLeader()) this.lessor.promote(this.now(), options.electionTimeoutMs);
    this.scheduleDuties();
  }

  close(): void {
    this.closed = true;
    this.leaderWait.close();
    if (this.dutyTimer !== undefined) this.options.clock.clearTimer(this.dutyTimer);
  }

  raftTerm(): number {
    return this.node.leaderInfo().term;
  }

  currentRevision(): number {
    return this.machine.kv.revision;
  }

  get quotaBackendBytes(): number {
    return this.options.quotaBackendBytes ?? DEFAULT_QUOTA_BACKEND_BYTES;
  }

  /**
   * Not an async function, here and in `propose`: a write's frames would each be an object held
   * until it is applied (under load, long enough to reach the old generation). Failures before
   * the proposal are rejections all the same.
   */
  execute<Command extends KvCommand>(
    command: Command,
    session?: ClientSession,
    options: RequestOptions = {},
  ): Promise<AnswerTo<Command>> {
    try {
      if (command.type === 'range')
        return this.range(command, options).then((response) => answerOf(command, response));
      if (exceedsQuota(this.machine.kv.storedBytes, command, this.quotaBackendBytes)) {
        return this.raiseNoSpace(options).then(() => {
          throw new NoSpaceError();
        });
      }
      // A client's write is checked where it applies (see NodeStateMachine), even when this member
      // saw auth off: it may be on by the time the entry applies.
      const user = options.user;
      return this.propose(
        {
          type: 'kv',
          command,
          ...(session === undefined ? {} : { session }),
          ...(user === undefined ? {} : { user }),
        },
        options,
      ).then((result) => {
        if (result === undefined)
          throw new MeshError('INTERNAL', 'a key-value command applied without a result');
        if (result.type === 'error' && user !== undefined && result.error.code.startsWith('AUTH_'))
          this.authRefusals.record(result.error, command.type);
        return answerOf(command, result);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async range(request: RangeRequest, options: RequestOptions = {}): Promise<RangeResponse> {
    this.node.checkRunning();
    if (request.serializable !== true) await this.linearizableBarrier(options);
    // After the barrier: a revoke acknowledged before this read is applied here by now.
    if (options.user !== undefined && this.machine.auth.enabled) {
      const refusal = kvCommandRefusal(this.machine.auth, options.user, request, () => []);
      if (refusal !== undefined) {
        this.authRefusals.record(refusal, 'range');
        throw refusal;
      }
    }
    return this.machine.kv.range(request);
  }

  get auth(): AuthStateView {
    return this.machine.auth;
  }

  async currentAuth(options: RequestOptions = {}): Promise<AuthStateView> {
    this.node.checkRunning();
    await this.linearizableBarrier(options);
    return this.machine.auth;
  }

  async changeAuth(command: AuthCommand, options: RequestOptions = {}): Promise<void> {
    const result = await this.propose({ type: 'auth', command }, options);
    if (result?.type === 'error') throw result.error;
  }

  async alarms(): Promise<readonly AlarmMember[]> {
    // Through the waiting barrier as every other read: a moment without a leader delays it.
    await this.linearizableBarrier();
    return this.machine.kv.alarms;
  }

  /**
   * Raises this member's NOSPACE alarm through the log, as etcd does when a write passes the quota,
   * and resolves once it applied here (or could not be proposed): as etcd's quota check, the write
   * is answered NOSPACE only then, so an alarm list the refused client sends next shows the alarm.
   */
  private raiseNoSpace(options: RequestOptions): Promise<void> {
    const memberId = this.node.id;
    if (this.machine.kv.alarms.some((member) => member.memberId === memberId && member.alarm === 'NOSPACE'))
      return Promise.resolve();
    this.raisingNoSpace ??= this.propose(
      { type: 'kv', command: { type: 'alarm', action: 'activate', memberId, alarm: 'NOSPACE' } },
      options,
    ).then(
      () => {
        this.raisingNoSpace = undefined;
      },
      () => {
        // No leader now; the next write past the quota raises it again.
        this.raisingNoSpace = undefined;
      },
    );
    return this.raisingNoSpace;
  }

  async leaseKeepAlive(id: number): Promise<number> {
    this.node.checkRunning();
    if (this.node.isLeader()) return this.lessor.keepAlive(id, this.now());
    const body = new Uint8Array(9);
    body[0] = FORWARD_KEEPALIVE;
    new DataView(body.buffer).setFloat64(1, id);
    return this.leaderWait.run(async (leader) => {
      if (leader.leaderId === this.node.id) {
        this.node.requireLeader();
        return this.lessor.keepAlive(id, this.now());
      }
      return dataViewOf(await this.forwardTo(leader.leaderId, body)).getFloat64(0);
    }, this.retryableWrite);
  }

  /**
   * Serves a request follower `from` (unknown: any) forwarded to this node (which believes itself
   * leader).
   */
  handleForwarded(body: Uint8Array, from?: NodeId): Promise<Uint8Array> {
    // A forwarded write, the common case, without an async frame held until it applies.
    if (body[0] === FORWARD_PROPOSAL && this.node.isLeader()) {
      traceStage?.('forward-received', 0);
      try {
        // The follower answers its client once it applied the entry too: its commit is urgent.
        return this.node
          .propose(body.subarray(1), from ?? true)
          .then((result) => encodeForwardedResult(result, this.node.applied));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.handleOtherForwarded(body);
  }

  /** A forwarded membership change or keepalive; a proposal reaching here finds no leader. */
  private async handleOtherForwarded(body: Uint8Array): Promise<Uint8Array> {
    if (body[0] === FORWARD_MEMBERSHIP) return this.membership.serveForwarded(body.subarray(1));
    if (!this.node.isLeader()) throw new NotLeaderError(this.node.leaderInfo().leaderId);
    if (body[0] === FORWARD_KEEPALIVE && body.byteLength === 9) {
      const ttl = this.lessor.keepAlive(
        new DataView(body.buffer, body.byteOffset, 9).getFloat64(1),
        this.now(),
      );
      const answer = new Uint8Array(8);
      new DataView(answer.buffer).setFloat64(0, ttl);
      return answer;
    }
    // A proposal to a leader took the path above; anything else is not a forwarded request.
    throw new MeshError('BAD_REQUEST', 'unknown forwarded request');
  }

  async leaseTimeToLive(id: number, withKeys: boolean): Promise<LeaseTimeToLiveAnswer> {
    await this.linearizableBarrier();
    if (!this.machine.kv.hasLease(id)) return { id, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] };
    const lease = this.machine.kv.leaseTimeToLive(id, withKeys);
    return {
      id,
      ttlSeconds: this.lessor.remainingSeconds(id, this.now()),
      grantedTtlSeconds: lease.grantedTtlSeconds,
      keys: lease.keys,
    };
  }

  async leaseList(): Promise<readonly LeaseStatus[]> {
    await this.linearizableBarrier();
    return this.machine.kv.leaseList();
  }

  watch(request: WatchRequest, user?: string): Watcher {
    this.node.checkRunning();
    if (user !== undefined && this.machine.auth.enabled) {
      const refusal = watchRefusal(this.machine.auth, user, request);
      if (refusal !== undefined) {
        this.authRefusals.record(refusal, 'watch');
        throw refusal;
      }
    }
    return this.machine.watches.watch(request);
  }

  requestWatchProgress(): void {
    this.machine.watches.progress();
  }

  async members(): Promise<readonly ClusterMember[]> {
    this.node.checkRunning();
    return this.membership.members();
  }

  /** Served by the leader (a follower forwards the call); see `Membership`. */
  async addMember(
    peerUrls: readonly string[],
    isLearner: boolean,
    name = '',
    autoPromote = false,
  ): Promise<MemberChange> {
    this.node.checkRunning();
    return this.membership.add(peerUrls, isLearner, name, autoPromote);
  }

  async removeMember(id: NodeId): Promise<MemberChange> {
    this.node.checkRunning();
    return this.membership.remove(id);
  }

  async promoteMember(id: NodeId): Promise<MemberChange> {
    this.node.checkRunning();
    return this.membership.promote(id);
  }

  async updateMember(id: NodeId, peerUrls: readonly string[]): Promise<MemberChange> {
    this.node.checkRunning();
    return this.membership.update(id, peerUrls);
  }

  async moveLeader(target: NodeId): Promise<void> {
    this.node.checkRunning();
    return this.membership.moveLeader(target);
  }

  /**
   * Publishes this node's own name and client URLs in the replicated member directory, and its
   * peer URLs unless the directory has some already: those change only by MemberUpdate.
   */
  async announce(record: MemberRecord): Promise<void> {
    const current = this.machine.members.get(record.id);
    const peerUrls =
      current === undefined || current.peerUrls.length === 0 ? record.peerUrls : current.peerUrls;
    const announced = { ...current, ...record, peerUrls };
    if (current !== undefined && JSON.stringify(current) === JSON.stringify(announced)) return;
    await this.propose({ type: 'setMember', member: announced });
  }

  async status(): Promise<BackendStatus> {
    const status = this.node.status();
    return {
      version: MESHOS_VERSION,
      leaderId: status.leaderId,
      raftIndex: status.commit,
      raftAppliedIndex: this.node.applied,
      raftTerm: status.term,
      revision: this.machine.kv.revision,
      dbSizeBytes: this.machine.kv.storedBytes,
      isLearner: status.config.learners.includes(this.node.id),
      errors: this.machine.kv.alarms.map(describeAlarm),
    };
  }

  /** The whole state (Maintenance.Snapshot), encoded a step per timer turn so the node keeps serving. */
  async snapshot(): Promise<Uint8Array> {
    await this.linearizableBarrier();
    const task = this.machine.startSnapshot();
    while (!task.step()) await new Promise<void>((resolve) => this.options.clock.setTimer(0, resolve));
    return task.result();
  }

  /** This member's own hash (no read barrier, as etcd: members are compared, not the cluster). */
  async hashKv(revision: number): Promise<KvHash> {
    const task = this.machine.kv.startHashKv(revision);
    while (!task.step()) await new Promise<void>((resolve) => this.options.clock.setTimer(0, resolve));
    return task.result();
  }

  /** ReadIndex; a moment without a leader, or a leader change, delays the read instead of failing it. */
  private linearizableBarrier(options: RequestOptions = {}): Promise<void> {
    return this.leaderWait.run(
      () => this.node.linearizableBarrier(),
      readRetryable,
      leaderWaitMs(options.timeoutMs),
    );
  }

  /**
   * Proposes on the leader: here, or forwarded. Without a leader, or refused by one that no
   * longer leads (so never proposed), the command waits for the next leader; a proposal that was
   * in flight when leadership changed fails with its outcome unknown.
   */
  private propose(command: NodeCommand, options: RequestOptions = {}): Promise<NodeApplyResult> {
    try {
      this.node.checkRunning();
      // A command the log format cannot hold (a negative revision, lease or TTL from a client)
      // is refused with its typed error here; encoding it would fail an assertion.
      if (command.type === 'kv') validateKvCommand(command.command);
      // One byte of headroom for the forwarding tag: a follower sends the bytes as they are.
      const forwardable = encodeNodeCommand(command, 1);
      forwardable[0] = FORWARD_PROPOSAL;
      const encoded = forwardable.subarray(1);
      // As etcd: refused before it reaches the log, where it would only fail to apply.
      if (encoded.byteLength > MAX_REQUEST_BYTES)
        throw new RequestTooLargeError(encoded.byteLength, MAX_REQUEST_BYTES);
      return this.leaderWait.run(
        (leader) =>
          leader.leaderId === this.node.id
            ? this.node.propose(encoded)
            : this.forwardTo(leader.leaderId, forwardable).then((answer) => this.appliedHere(answer)),
        this.retryableWrite,
        leaderWaitMs(options.timeoutMs),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Without forwarding, a follower's refusal names the leader for the client to ask instead. */
  private readonly retryableWrite = (error: unknown): boolean =>
    this.options.forward !== undefined && neverProposed(error);

  /**
   * A forwarded write's result, once this member applied what the leader had applied when it
   * answered: as an etcd member answers a write after its own apply, so what the client does next
   * here (a serializable read, a watch from the next revision, a watch refused as compacted) sees
   * the write. A member that falls behind answers after FORWARDED_APPLY_WAIT_MS anyway: the write
   * is committed.
   */
  private appliedHere(answer: Uint8Array): Promise<NodeApplyResult> {
    const { leaderApplied, result } = decodeForwardedResult(answer);
    if (leaderApplied <= this.node.applied) return Promise.resolve(result);
    return new Promise<NodeApplyResult>((resolve) => {
      const timer = this.options.clock.setTimer(FORWARDED_APPLY_WAIT_MS, () => resolve(result));
      const settle = (): void => {
        this.options.clock.clearTimer(timer);
        resolve(result);
      };
      this.node.waitApplied(leaderApplied).then(settle, settle);
    });
  }

  private forwardTo(leader: NodeId, body: Uint8Array): Promise<Uint8Array> {
    // Without forwarding the client is told who leads, and asks it itself.
    if (this.options.forward === undefined) return Promise.reject(new NotLeaderError(leader));
    traceStage?.('forward-sent', 0);
    return this.options.forward(leader, body);
  }

  private now(): number {
    return this.options.clock.nowMs();
  }

  private scheduleDuties(): void {
    if (this.closed) return;
    this.dutyTimer = this.options.clock.setTimer(LEADER_DUTY_INTERVAL_MS, () => {
      if (this.closed) return;
      if (this.node.isLeader()) this.leaderDuties();
      this.scheduleDuties();
    });
  }

  /** Expiry and compaction are decided here, on the leader only, and take effect through the log. */
  private leaderDuties(): void {
    this.compactor?.turn(this.now());
    for (const id of this.lessor.expired(this.now())) {
      this.execute({ type: 'leaseRevoke', id }).catch(() => {
        // Lost leadership or the lease is gone already; the next leader retries if needed.
      });
    }
    this.membership.promoteCaughtUpLearners();
  }
}

/**
 * A forwarded proposal's answer: the leader's applied index when it answered, then the encoded
 * result (nothing for a command without one). Sent and dropped, so in pooled memory.
 */
function encodeForwardedResult(result: NodeApplyResult, leaderApplied: number): Uint8Array {
  traceStage?.('forward-answered', 0);
  return BinaryWriter.transient((writer) => {
    writer.varuint(leaderApplied);
    if (result !== undefined) writeKvResult(writer, result);
  });
}

function decodeForwardedResult(answer: Uint8Array): { leaderApplied: number; result: NodeApplyResult } {
  traceStage?.('forward-answer-received', 0);
  const reader = new BinaryReader(answer, 'forwarded answer', forwardedAnswerError);
  const leaderApplied = reader.varuint();
  const rest = answer.subarray(reader.offset);
  return { leaderApplied, result: rest.byteLength === 0 ? undefined : decodeKvResult(rest) };
}

function forwardedAnswerError(subject: string, problem: string): MeshError {
  return new MeshError('BAD_REQUEST', `${subject}: ${problem}`);
}
