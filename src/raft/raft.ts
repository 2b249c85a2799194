import { assert, MeshError } from '../lib/index.js';
import { leaseDurationTicks, type RaftConfig, validateRaftConfig } from './config.js';
import {
  applyConfigChange,
  type ConfigChange,
  decodeConfigChange,
  encodeConfigChange,
  isJoint,
  isVoterIn,
  membersOf,
} from './config-change.js';
import {
  EARLY_CAMPAIGN_RANK_SPACING_TICKS,
  EARLY_CAMPAIGN_RETRY_TICKS,
  MAX_BUFFERED_READ_STATES,
  MAX_ENTRIES_PER_APPEND,
  MAX_PENDING_READS,
  MAX_PROPOSAL_BYTES,
  MAX_REQUEST_ID_LENGTH,
  SNAPSHOT_CHUNK_BYTES,
} from './constants.js';
import { entrySizeBytes } from './entry-size.js';
import {
  ConfigChangeInProgressError,
  LeadershipTransferInProgressError,
  NotLeaderError,
  ProposalTooLargeError,
  TooManyPendingReadsError,
} from './errors.js';
import { RaftLog, UNKNOWN_TERM } from './log.js';
import { Progress } from './progress.js';
import { quorumActive, quorumIndex, voteResult } from './quorum.js';
import { ReadOnlyQueue } from './read-only.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import type {
  AppendRequest,
  AppendResponse,
  ClusterConfig,
  Entry,
  EntryKind,
  HardState,
  Heartbeat,
  HeartbeatResponse,
  Message,
  NodeId,
  RaftStatus,
  ReadIndexResponse,
  ReadState,
  Ready,
  ReadyOptions,
  Role,
  SnapshotChunk,
  SnapshotChunkRead,
  SnapshotInfo,
  SnapshotResponse,
  SoftState,
  VoteRequest,
} from './types.js';

/** Uncommitted entries a leader accepts before refusing proposals (bounds its unstable tail). */
export const MAX_UNCOMMITTED_ENTRIES = 1_000_000;
/**
 * Committed entries handed out in one Ready (they are already in memory; this bounds the work of
 * applying one Ready: about 20 µs an entry for the key-value state machine, so some 20 ms).
 */
export const MAX_COMMITTED_ENTRIES_PER_READY = 1024;

/** The leader refuses proposals because too many are not committed yet. */
export class ProposalBacklogFullError extends MeshError {
  constructor(limit: number) {
    super('TOO_MANY_UNCOMMITTED', `more than ${limit} entries await commit`, { details: { limit } });
  }
}

/** The transfer target is not a voter of the current configuration. */
export class InvalidTransferTargetError extends MeshError {
  constructor(target: NodeId) {
    super('INVALID_TRANSFER_TARGET', `${target} is not a voter`, { details: { target } });
  }
}

/** The empty list every Ready field with nothing in it shares; nothing is ever added to it. */
const NOTHING: readonly never[] = [];

/** `list` as a Ready field: the shared empty list when it holds nothing (the core keeps `list`). */
function handOver<T>(list: readonly T[]): readonly T[] {
  return list.length === 0 ? NOTHING : list;
}

/** Messages that reflect state the host must persist first (votes, terms, appended entries). */
const SENT_AFTER_PERSIST: ReadonlySet<Message['type']> = new Set<Message['type']>([
  'vote',
  'voteResponse',
  'preVoteResponse',
  'appendResponse',
  'heartbeatResponse',
  'snapshotResponse',
  'readIndex',
]);

interface ReadyInFlight {
  readonly lastEntryIndex: number;
  readonly lastEntryTerm: number;
  readonly snapshotIndex: number;
  readonly appliedIndex: number;
}

interface AwaitingCommitRead {
  readonly requestId: string;
  readonly from: NodeId;
}

/**
 * The pure Raft core. The host ticks it, steps peer messages into it, proposes, and drains
 * `ready()`: persist, send, apply, then `advance()`. Term checks happen once in `step()`;
 * role behaviour lives in the handlers each `become*` method installs.
 */
export class Raft {
  readonly id: NodeId;
  private readonly settings: RaftConfig;
  readonly log: RaftLog;

  private currentTerm = 0;
  private votedFor: NodeId | 0 = 0;
  private leader: NodeId | 0 = 0;
  private currentRole: Role = 'follower';
  private stepRole: (message: Message) => void = this.stepFollower;
  private tickRole: () => void = this.tickElection;

  /** Configurations by the index of the entry that introduced them; the first is the snapshot's. */
  private configHistory: { index: number; config: ClusterConfig }[] = [];
  private clusterConfig: ClusterConfig;
  /** Index of the last config entry appended (or, on a new leader, its last index). */
  private pendingConfigIndex = 0;

  private readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /**
   * Set by the leader-lost hint, cleared once a leader is known again: meanwhile a campaign
   * that fails (a split vote, a log behind the other survivor's) is retried after a short
   * timeout rather than a whole election timeout.
   */
  private leaderLostHint = false;
  /** Ticks since this node started; only differences matter (lease arithmetic). */
  private tickCount = 0;
  private leadTransferee: NodeId | 0 = 0;
  /** Heartbeats sent before this tick do not count toward the lease (reset by transfers). */
  private leaseNotBeforeTick = Number.NEGATIVE_INFINITY;
  private committedInTerm = false;
  private broadcastPending = false;
  private broadcastCommitPending = false;
  /** A commit index not yet sent to every follower (`deferCommitOnlyAppends`): the next tick sends it. */
  private commitDeferred = false;
  /** Entries proposed with `urgentCommit`, in index order, not yet committed; node 0: every follower. */
  private urgentCommits: { readonly index: number; readonly node: NodeId | 0 }[] = [];
  /** Followers that get the new commit index at the next broadcast, appends or not. */
  private readonly urgentCommitFollowers = new Set<NodeId>();
  private readHeartbeatPending = false;

  private outbox: Message[] = [];
  private outboxAfterPersist: Message[] = [];
  /** Snapshot chunks for the host to read and send (it holds the bytes). */
  private snapshotReads: SnapshotChunkRead[] = [];
  /** Chunks of the snapshot being received, for the host to write (see `Ready.snapshotWrites`). */
  private snapshotWrites: SnapshotChunk[] = [];
  private readStates: ReadState[] = [];
  private droppedReads: string[] = [];
  private readonly readOnly = new ReadOnlyQueue();
  private readsAwaitingCommit: AwaitingCommitRead[] = [];
  private readonly snapshotReceiver = new SnapshotReceiver();

  private previousHardState: HardState;
  private previousSoftState: SoftState;
  private readyInFlight: ReadyInFlight | undefined = undefined;

  constructor(config: RaftConfig) {
    validateRaftConfig(config);
    this.settings = config;
    this.id = config.id;
    const storage = config.storage;
    const { hardState, config: snapshotConfig } = storage.initialState();
    this.log = new RaftLog(storage, hardState.commit, config.applied ?? 0);
    this.currentTerm = hardState.term;
    this.votedFor = hardState.vote;
    this.configHistory.push({ index: storage.firstIndex() - 1, config: snapshotConfig });
    this.clusterConfig = snapshotConfig;
    if (storage.lastIndex() >= storage.firstIndex()) {
      const stored = storage.entries(storage.firstIndex(), storage.lastIndex() + 1);
      this.recordConfigEntries(stored);
    }
    this.becomeFollower(this.currentTerm, 0);
    this.previousHardState = hardState;
    this.previousSoftState = { leaderId: 0, role: this.currentRole };
  }

  // ---------------------------------------------------------------- public surface

  get term(): number {
    return this.currentTerm;
  }

  get role(): Role {
    return this.currentRole;
  }

  get leaderId(): NodeId | 0 {
    return this.leader;
  }

  /** The highest index known committed (cheap, unlike `status()`, which copies progress). */
  get committed(): number {
    return this.log.committed;
  }

  get config(): ClusterConfig {
    return this.clusterConfig;
  }

  /** The configuration in force at `index` (what a snapshot taken there must record). */
  configAt(index: number): ClusterConfig {
    let result = this.configHistory[0]!.config;
    for (const item of this.configHistory) {
      if (item.index <= index) result = item.config;
    }
    return result;
  }

  tick(): void {
    this.tickCount++;
    this.tickRole();
  }

  /** Forces an election now (with a pre-vote round first when pre-vote is on). */
  campaign(): void {
    this.hup(false);
  }

  /**
   * Appends `data` to the log. `urgentCommit`: someone waits on a follower (`true`: any; a node id:
   * that one) for this entry to apply there, so its commit is sent to it at once even when
   * `deferCommitOnlyAppends` is on.
   */
  propose(data: Uint8Array, urgentCommit: boolean | NodeId = false): number {
    this.checkCanPropose();
    if (data.byteLength > MAX_PROPOSAL_BYTES)
      throw new ProposalTooLargeError(data.byteLength, MAX_PROPOSAL_BYTES);
    const index = this.appendLocal('normal', data);
    if (urgentCommit !== false && this.settings.deferCommitOnlyAppends === true)
      this.urgentCommits.push({ index, node: urgentCommit === true ? 0 : urgentCommit });
    return index;
  }

  proposeConfigChange(change: ConfigChange): number {
    this.checkCanPropose();
    if (this.pendingConfigIndex > this.log.committed) {
      throw new ConfigChangeInProgressError(`entry ${this.pendingConfigIndex} is not committed yet`);
    }
    if (change.type !== 'leaveJoint' && isJoint(this.clusterConfig)) {
      throw new ConfigChangeInProgressError('the configuration is joint');
    }
    applyConfigChange(this.clusterConfig, change);
    return this.appendLocal('config', encodeConfigChange(change));
  }

  /**
   * Starts a linearizable read. The answer arrives as a ReadState in a later Ready (or the id
   * in `droppedReads`). A follower forwards the read to its leader.
   */
  readIndex(requestId: string): void {
    assert(requestId.length > 0 && requestId.length <= MAX_REQUEST_ID_LENGTH, 'read request id length');
    if (this.currentRole === 'leader') {
      if (!this.acceptRead(requestId, this.id)) throw new TooManyPendingReadsError(MAX_PENDING_READS);
      return;
    }
    if (this.leader === 0) throw new NotLeaderError(0);
    this.send({ type: 'readIndex', from: this.id, to: this.leader, term: this.currentTerm, requestId });
  }

  transferLeadership(target: NodeId): void {
    if (this.currentRole !== 'leader') throw new NotLeaderError(this.leader);
    if (target === this.id) {
      if (this.leadTransferee !== 0) this.abortLeaderTransfer();
      return;
    }
    if (!this.clusterConfig.voters.includes(target)) throw new InvalidTransferTargetError(target);
    if (this.leadTransferee === target) return;
    if (this.leadTransferee !== 0) this.abortLeaderTransfer();
    this.leadTransferee = target;
    this.leaseNotBeforeTick = Number.POSITIVE_INFINITY;
    this.electionElapsed = 0;
    const progress = this.progress.get(target);
    if (progress === undefined) return;
    if (progress.match === this.log.lastIndex()) this.sendTimeoutNow(target);
    else this.sendAppend(target, true);
  }

  /** The host could not reach `peer`; stop pipelining to it until it answers again. */
  reportUnreachable(peer: NodeId): void {
    const progress = this.progress.get(peer);
    if (this.currentRole === 'leader' && progress?.state === 'replicate') progress.becomeProbe();
  }

  /**
   * The host saw its established connection to `peer` close, a hint that the process died. A
   * follower of `peer` forgets it (so it grants pre-votes again) and campaigns after a short
   * delay set by its rank among the surviving voters, instead of a full election timeout.
   * A false hint is harmless: the pre-vote fails at every node that still hears from the
   * leader, and the leader's next heartbeat restores it. Without pre-vote a campaign would
   * bump the term and depose a healthy leader, and with lease reads forgetting the leader
   * early would break the lease's promise, so then the hint is ignored.
   */
  reportLeaderLost(peer: NodeId): void {
    if (this.currentRole !== 'follower' || this.leader !== peer || peer === 0) return;
    if (!this.settings.preVote || this.settings.leaseRead?.enabled === true || !this.promotable()) return;
    this.leader = 0;
    this.leaderLostHint = true;
    const survivors = [...new Set([...this.clusterConfig.voters, ...this.clusterConfig.outgoingVoters])]
      .filter((voter) => voter !== peer)
      .sort((a, b) => a - b);
    const position = survivors.indexOf(this.id);
    const rank = position === -1 ? survivors.length : position;
    const delayTicks = 1 + rank * EARLY_CAMPAIGN_RANK_SPACING_TICKS;
    // Never later than the running election timer would fire anyway.
    this.electionElapsed = Math.max(this.electionElapsed, this.randomizedElectionTimeout - delayTicks);
  }

  /** The transport failed to deliver a snapshot to `peer`; start again from probing. */
  reportSnapshot(peer: NodeId, outcome: 'success' | 'failure'): void {
    const progress = this.progress.get(peer);
    if (this.currentRole !== 'leader' || progress?.state !== 'snapshot') return;
    if (outcome === 'failure') {
      progress.becomeProbe();
      progress.probeSent = true;
    }
  }

  step(message: Message): void {
    if (message.term > this.currentTerm) {
      if (message.type === 'vote' || message.type === 'preVote') {
        // Leader stickiness: a node that heard from a live leader within the minimum election
        // timeout ignores campaigns, unless leadership is being handed over on purpose.
        const useLease = this.settings.checkQuorum || message.type === 'preVote';
        const inLease = useLease && this.leader !== 0 && this.electionElapsed < this.settings.electionTicks;
        if (inLease && !message.transfer) return;
      }
      if (message.type === 'preVote') {
        // A pre-vote never changes our term.
      } else if (message.type === 'preVoteResponse' && message.granted) {
        // The pre-candidate bumps its term itself when it wins.
      } else if (message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot') {
        this.becomeFollower(message.term, message.from);
      } else {
        this.becomeFollower(message.term, 0);
      }
    } else if (message.term < this.currentTerm) {
      if (
        (this.settings.checkQuorum || this.settings.preVote) &&
        (message.type === 'append' || message.type === 'heartbeat')
      ) {
        // Tell a stale leader about the newer term, or it may never step down.
        this.sendAppendResponse(message.from, false, 0, 0, 0);
      } else if (message.type === 'preVote') {
        this.send({
          type: 'preVoteResponse',
          from: this.id,
          to: message.from,
          term: this.currentTerm,
          granted: false,
        });
      }
      return;
    }

    if (message.type === 'vote' || message.type === 'preVote') {
      this.handleVoteRequest(message);
      return;
    }
    this.stepRole(message);
  }

  /** True when a Ready has something to do; false while a Ready is out awaiting `advance()`. */
  /**
   * Whether `ready(options)` would return anything. With `deferWrites` (the host is still
   * writing an earlier Ready), only what needs no write counts: messages that may leave at
   * once, committed entries, read states, role changes.
   */
  hasReady(options: ReadyOptions = {}): boolean {
    if (this.readyInFlight !== undefined) return false;
    this.flushBroadcast();
    const common =
      this.outbox.length > 0 ||
      this.snapshotReads.length > 0 ||
      this.log.hasNextCommittedEntries() ||
      this.readStates.length > 0 ||
      this.droppedReads.length > 0 ||
      this.softStateChanged();
    if (common) return true;
    if (options.deferWrites === true) return false;
    return (
      this.outboxAfterPersist.length > 0 ||
      this.snapshotWrites.length > 0 ||
      this.log.unstableEntries().length > 0 ||
      this.log.unstableSnapshot !== undefined ||
      this.hardStateChanged()
    );
  }

  /**
   * What the host must do next. With `deferWrites`, new entries, the hard state, a snapshot and
   * the messages that may only leave after a write all stay for a later Ready, so that a host
   * still writing can apply commits and answer reads meanwhile while new entries pile up for
   * its next (larger) write.
   */
  ready(options: ReadyOptions = {}): Ready {
    assert(this.readyInFlight === undefined, 'ready() called again before advance()');
    this.flushBroadcast();
    const deferWrites = options.deferWrites === true;
    const unstable = deferWrites ? NOTHING : this.log.unstableEntries();
    const entries = unstable.length === 0 ? NOTHING : unstable.slice();
    const lastEntry = entries.at(-1);
    const snapshot = deferWrites ? undefined : this.log.unstableSnapshot;
    const committedEntries = this.log.nextCommittedEntries(MAX_COMMITTED_ENTRIES_PER_READY);
    const lastCommitted = committedEntries.at(-1);
    if (lastCommitted !== undefined) this.log.applying = lastCommitted.index;

    let hardState: HardState | undefined;
    if (!deferWrites && this.hardStateChanged()) {
      hardState = { term: this.currentTerm, vote: this.votedFor, commit: this.log.committed };
      this.previousHardState = hardState;
    }
    let softState: SoftState | undefined;
    if (this.softStateChanged()) {
      softState = { leaderId: this.leader, role: this.currentRole };
      this.previousSoftState = softState;
    }
    // One literal with every field, in one order: every Ready has the same shape. A list with
    // nothing in it is the shared empty one, and only a list handed over is replaced: most
    // Readys carry two or three of the eight.
    const ready: Ready = {
      softState,
      hardState,
      entries,
      snapshot,
      messages: handOver(this.outbox),
      messagesAfterPersist: deferWrites ? NOTHING : handOver(this.outboxAfterPersist),
      snapshotReads: handOver(this.snapshotReads),
      snapshotWrites: deferWrites ? NOTHING : handOver(this.snapshotWrites),
      committedEntries,
      readStates: handOver(this.readStates),
      droppedReads: handOver(this.droppedReads),
    };
    if (this.outbox.length > 0) this.outbox = [];
    if (this.snapshotReads.length > 0) this.snapshotReads = [];
    if (!deferWrites) {
      if (this.outboxAfterPersist.length > 0) this.outboxAfterPersist = [];
      if (this.snapshotWrites.length > 0) this.snapshotWrites = [];
    }
    if (this.readStates.length > 0) this.readStates = [];
    if (this.droppedReads.length > 0) this.droppedReads = [];
    this.readyInFlight = {
      lastEntryIndex: lastEntry?.index ?? 0,
      lastEntryTerm: lastEntry?.term ?? 0,
      snapshotIndex: snapshot?.metadata.index ?? 0,
      appliedIndex: lastCommitted?.index ?? 0,
    };
    return ready;
  }

  /** The host persisted, sent, and applied everything in the last Ready. */
  advance(): void {
    const done = this.readyInFlight;
    assert(done !== undefined, 'advance() called without a ready()');
    this.readyInFlight = undefined;
    if (done.snapshotIndex > 0) {
      this.log.stableSnapshotTo(done.snapshotIndex);
      this.log.appliedTo(done.snapshotIndex);
    }
    if (done.appliedIndex > 0) this.log.appliedTo(done.appliedIndex);
    if (done.lastEntryIndex > 0) this.persistedThrough(done.lastEntryIndex, done.lastEntryTerm);
  }

  /**
   * Pipelined persistence: the host sent the last Ready's messages, applied its committed
   * entries and started writing its entries and hard state, but the write may still be in
   * flight; a new Ready may be taken at once. The host reports the write with
   * `persistedThrough` (and sends `messagesAfterPersist` only then), in Ready order. A Ready
   * with a snapshot must be finished with `advance` instead.
   */
  acceptReady(): void {
    const done = this.readyInFlight;
    assert(done !== undefined, 'acceptReady() called without a ready()');
    assert(done.snapshotIndex === 0, 'a Ready with a snapshot must be finished with advance()');
    this.readyInFlight = undefined;
    if (done.appliedIndex > 0) this.log.appliedTo(done.appliedIndex);
    if (done.lastEntryIndex > 0) this.log.inProgressTo(done.lastEntryIndex);
  }

  /** The host's storage holds the log through `index` (written at `term`) durably. */
  persistedThrough(index: number, term: number): void {
    this.log.stableTo(index, term);
    if (this.currentRole === 'leader') {
      // The leader counts its own copy only once it is durable.
      const self = this.progress.get(this.id);
      if (self?.maybeUpdate(this.log.lastStableIndex())) this.advanceCommit();
    }
  }

  status(): RaftStatus {
    const base = {
      id: this.id,
      role: this.currentRole,
      term: this.currentTerm,
      vote: this.votedFor,
      leaderId: this.leader,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      config: this.clusterConfig,
      leadTransferee: this.leadTransferee,
    };
    if (this.currentRole !== 'leader') return base;
    const progress = new Map([...this.progress].map(([node, item]) => [node, item.toStatus()] as const));
    return { ...base, progress };
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: number, leader: NodeId | 0): void {
    if (leader !== 0) this.leaderLostHint = false;
    this.reset(term);
    this.leader = leader;
    this.currentRole = this.followerRole();
    this.stepRole = this.stepFollower;
    this.tickRole = this.tickElection;
  }

  private becomePreCandidate(): void {
    assert(this.currentRole !== 'leader', 'a leader cannot become a pre-candidate');
    // Neither the term nor the vote changes: a pre-vote must not disturb anyone.
    this.votes.clear();
    this.leader = 0;
    this.currentRole = 'preCandidate';
    this.stepRole = this.stepCandidate;
    this.tickRole = this.tickElection;
  }

  private becomeCandidate(): void {
    assert(this.currentRole !== 'leader', 'a leader cannot become a candidate');
    this.reset(this.currentTerm + 1);
    this.votedFor = this.id;
    this.currentRole = 'candidate';
    this.stepRole = this.stepCandidate;
    this.tickRole = this.tickElection;
  }

  private becomeLeader(): void {
    assert(this.currentRole === 'candidate', 'only a candidate becomes leader');
    this.leaderLostHint = false;
    this.reset(this.currentTerm);
    this.leader = this.id;
    this.currentRole = 'leader';
    this.stepRole = this.stepLeader;
    this.tickRole = this.tickHeartbeat;
    this.syncProgressWithConfig();
    const self = this.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.maybeUpdate(this.log.lastStableIndex());
    }
    // No config change until everything before this term is committed: entries already in
    // the log may hold one we cannot see is pending.
    this.pendingConfigIndex = this.log.lastIndex();
    this.appendLocal('noop', new Uint8Array(0));
  }

  private followerRole(): Role {
    return this.clusterConfig.learners.includes(this.id) ? 'learner' : 'follower';
  }

  private reset(term: number): void {
    if (this.currentTerm !== term) {
      this.currentTerm = term;
      this.votedFor = 0;
    }
    if (this.currentRole === 'leader') this.dropLeaderReads();
    this.leader = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const timeoutTicks = this.leaderLostHint
      ? Math.min(EARLY_CAMPAIGN_RETRY_TICKS, this.settings.electionTicks)
      : this.settings.electionTicks;
    this.randomizedElectionTimeout = timeoutTicks + this.settings.random.nextInt(timeoutTicks);
    this.leadTransferee = 0;
    this.leaseNotBeforeTick = Number.NEGATIVE_INFINITY;
    this.committedInTerm = false;
    this.broadcastPending = false;
    this.broadcastCommitPending = false;
    this.commitDeferred = false;
    this.urgentCommits = [];
    this.urgentCommitFollowers.clear();
    this.readHeartbeatPending = false;
    this.votes.clear();
    this.progress.clear();
  }

  /**
   * May this node campaign? A voter of its latest configuration may, and so may a voter of its
   * committed one: a leader that appended its own removal and then crashed may hold the only
   * up-to-date log, and the rest (still joint) cannot win without it. Votes are always counted
   * under the latest configuration, so this is as safe as a leader serving outside it.
   */
  private promotable(): boolean {
    return isVoterIn(this.clusterConfig, this.id) || isVoterIn(this.configAt(this.log.committed), this.id);
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    if (this.commitDeferred) this.sendDeferredCommit();
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.settings.electionTicks) {
      this.electionElapsed = 0;
      if (this.settings.checkQuorum) {
        const active = quorumActive(
          this.clusterConfig,
          (node) => node === this.id || this.progress.get(node)?.recentActive === true,
        );
        if (!active) {
          this.becomeFollower(this.currentTerm, 0);
          return;
        }
        for (const [node, progress] of this.progress) progress.recentActive = node === this.id;
      }
      if (this.leadTransferee !== 0) this.abortLeaderTransfer();
    }
    if (this.heartbeatElapsed >= this.settings.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(this.readOnly.lastContext());
    }
  }

  // ---------------------------------------------------------------- elections

  private hup(transfer: boolean): void {
    if (this.currentRole === 'leader' || !this.promotable()) return;
    if (this.settings.preVote && !transfer) this.runCampaign('preVote', false);
    else this.runCampaign('vote', transfer);
  }

  private runCampaign(kind: 'vote' | 'preVote', transfer: boolean): void {
    let voteTerm: number;
    if (kind === 'preVote') {
      this.becomePreCandidate();
      voteTerm = this.currentTerm + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.currentTerm;
    }
    this.votes.set(this.id, true);
    const result = voteResult(this.clusterConfig, this.votes);
    if (result === 'won') {
      if (kind === 'preVote') this.runCampaign('vote', transfer);
      else this.becomeLeader();
      return;
    }
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    const voters = new Set([...this.clusterConfig.voters, ...this.clusterConfig.outgoingVoters]);
    for (const voter of voters) {
      if (voter === this.id) continue;
      this.send({
        type: kind,
        from: this.id,
        to: voter,
        term: voteTerm,
        lastLogIndex,
        lastLogTerm,
        transfer,
      });
    }
  }

  private handleVoteRequest(message: VoteRequest): void {
    const isPreVote = message.type === 'preVote';
    const responseType = isPreVote ? 'preVoteResponse' : 'voteResponse';
    const canVote =
      this.votedFor === message.from ||
      (this.votedFor === 0 && this.leader === 0) ||
      (isPreVote && message.term > this.currentTerm);
    if (canVote && this.log.isUpToDate(message.lastLogIndex, message.lastLogTerm)) {
      // A granted pre-vote answers in the campaign's term so the pre-candidate can count it.
      this.send({ type: responseType, from: this.id, to: message.from, term: message.term, granted: true });
      if (!isPreVote) {
        this.electionElapsed = 0;
        this.votedFor = message.from;
      }
    } else {
      this.send({
        type: responseType,
        from: this.id,
        to: message.from,
        term: this.currentTerm,
        granted: false,
      });
    }
  }

  // ---------------------------------------------------------------- role handlers

  private stepFollower(message: Message): void {
    switch (message.type) {
      case 'append':
        this.heardFromLeader(message.from);
        this.handleAppend(message);
        return;
      case 'heartbeat':
        this.heardFromLeader(message.from);
        this.handleHeartbeat(message);
        return;
      case 'snapshot':
        this.heardFromLeader(message.from);
        this.handleSnapshotChunk(message);
        return;
      case 'timeoutNow':
        this.hup(true);
        return;
      default:
        this.stepReadWhileNotLeading(message);
    }
  }

  private stepCandidate(message: Message): void {
    switch (message.type) {
      case 'append':
        this.becomeFollower(message.term, message.from);
        this.handleAppend(message);
        return;
      case 'heartbeat':
        this.becomeFollower(message.term, message.from);
        this.handleHeartbeat(message);
        return;
      case 'snapshot':
        this.becomeFollower(message.term, message.from);
        this.handleSnapshotChunk(message);
        return;
      case 'voteResponse':
      case 'preVoteResponse': {
        const expected = this.currentRole === 'preCandidate' ? 'preVoteResponse' : 'voteResponse';
        if (message.type !== expected) return;
        this.votes.set(message.from, message.granted);
        const result = voteResult(this.clusterConfig, this.votes);
        if (result === 'won') {
          if (this.currentRole === 'preCandidate') this.runCampaign('vote', false);
          else this.becomeLeader();
        } else if (result === 'lost') {
          this.becomeFollower(this.currentTerm, 0);
        }
        return;
      }
      default:
        this.stepReadWhileNotLeading(message);
    }
  }

  /** A message only the current leader sends: it is alive, so the election timer restarts. */
  private heardFromLeader(leader: NodeId): void {
    this.electionElapsed = 0;
    this.leader = leader;
    this.leaderLostHint = false;
  }

  /** Followers and candidates refuse reads forwarded to them and take their own answers. */
  private stepReadWhileNotLeading(message: Message): void {
    if (message.type === 'readIndex') this.refuseRead(message.requestId, message.from);
    else if (message.type === 'readIndexResponse') this.receiveReadIndexResponse(message);
  }

  /** Refuses a read this node cannot serve, so the asker can retry elsewhere. */
  private refuseRead(requestId: string, asker: NodeId): void {
    this.send({ ...readRefusal(requestId), from: this.id, to: asker, term: this.currentTerm });
  }

  private stepLeader(message: Message): void {
    switch (message.type) {
      case 'appendResponse':
        this.handleAppendResponse(message);
        return;
      case 'heartbeatResponse':
        this.handleHeartbeatResponse(message);
        return;
      case 'snapshotResponse':
        this.handleSnapshotResponse(message);
        return;
      case 'readIndex':
        if (!this.acceptRead(message.requestId, message.from))
          this.refuseRead(message.requestId, message.from);
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- follower side

  private handleAppend(message: AppendRequest): void {
    const committed = this.log.committed;
    if (message.prevIndex < committed) {
      this.sendAppendResponse(message.from, true, committed, 0, 0);
      return;
    }
    if (!this.log.matchTerm(message.prevIndex, message.prevTerm)) {
      const lastIndex = this.log.lastIndex();
      if (message.prevIndex > lastIndex) {
        this.sendAppendResponse(message.from, false, message.prevIndex, 0, lastIndex + 1);
      } else {
        const conflictTerm = this.log.term(message.prevIndex);
        const conflictIndex = this.log.firstIndexOfTermAt(message.prevIndex);
        this.sendAppendResponse(message.from, false, message.prevIndex, conflictTerm, conflictIndex);
      }
      return;
    }
    const entries = message.entries;
    const lastNewIndex = message.prevIndex + entries.length;
    const conflict = this.log.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > committed, () => `entry ${conflict} conflicts with committed ${committed}`);
      this.appendEntries(
        conflict === message.prevIndex + 1 ? entries : entries.slice(conflict - message.prevIndex - 1),
      );
    }
    this.log.commitTo(Math.min(message.commit, lastNewIndex));
    if (message.answerOnlyIfRefused === true && entries.length === 0) return;
    this.sendAppendResponse(message.from, true, lastNewIndex, 0, 0);
  }

  private handleHeartbeat(message: Heartbeat): void {
    this.log.commitTo(Math.min(message.commit, this.log.lastIndex()));
    this.send({
      type: 'heartbeatResponse',
      from: this.id,
      to: message.from,
      term: this.currentTerm,
      context: message.context,
      sentTick: message.sentTick,
    });
  }

  private handleSnapshotChunk(message: SnapshotChunk): void {
    if (message.metadata.index <= this.log.committed) {
      this.snapshotReceiver.reset();
      this.sendAppendResponse(message.from, true, this.log.committed, 0, 0);
      return;
    }
    const outcome = this.snapshotReceiver.accept(message);
    if (outcome.kind === 'partial') {
      if (outcome.accepted) this.snapshotWrites.push(message);
      this.sendSnapshotResponse(message.from, message.metadata.index, outcome.nextOffset);
      return;
    }
    this.snapshotWrites.push(message);
    const index = this.restore(outcome.info) ? this.log.lastIndex() : this.log.committed;
    this.sendAppendResponse(message.from, true, index, 0, 0);
  }

  /** Installs a snapshot from the leader; false when the log already covers it. */
  private restore(snapshot: SnapshotInfo): boolean {
    const { index, term } = snapshot.metadata;
    if (index <= this.log.committed) return false;
    if (this.log.matchTerm(index, term)) {
      // Our log already holds the snapshot's last entry: just move the commit index.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.configHistory = [{ index, config: snapshot.metadata.config }];
    this.setConfig(snapshot.metadata.config);
    return true;
  }

  private receiveReadIndexResponse(message: ReadIndexResponse): void {
    if (message.success) this.pushReadState({ requestId: message.requestId, index: message.index });
    else this.pushDroppedRead(message.requestId);
  }

  // ---------------------------------------------------------------- leader side

  private checkCanPropose(): void {
    if (this.currentRole !== 'leader') throw new NotLeaderError(this.leader);
    if (this.leadTransferee !== 0) throw new LeadershipTransferInProgressError(this.leadTransferee);
    if (this.log.lastIndex() - this.log.committed >= MAX_UNCOMMITTED_ENTRIES) {
      throw new ProposalBacklogFullError(MAX_UNCOMMITTED_ENTRIES);
    }
  }

  /** Appends one entry to the leader's log; followers hear of it at the next `ready()`. */
  private appendLocal(kind: EntryKind, data: Uint8Array): number {
    const index = this.log.lastIndex() + 1;
    const entry: Entry = { term: this.currentTerm, index, kind, data };
    this.log.appendOne(entry);
    if (kind === 'config') {
      this.pendingConfigIndex = index;
      this.recordConfigEntries([entry]);
    }
    this.broadcastPending = true;
    return index;
  }

  private handleAppendResponse(message: AppendResponse): void {
    const progress = this.progress.get(message.from);
    if (progress === undefined) return;
    progress.recentActive = true;
    if (!message.success) {
      let retryIndex = message.conflictIndex;
      if (message.conflictTerm > 0) {
        const found = this.log.lastIndexWithTermAtMost(message.index, message.conflictTerm);
        if (found.term === message.conflictTerm) retryIndex = found.index + 1;
      }
      if (progress.maybeDecreaseTo(message.index, Math.max(retryIndex, 1))) {
        this.sendAppend(message.from, false);
      }
      return;
    }
    const updated = progress.maybeUpdate(message.index);
    if (progress.state === 'snapshot') {
      // Done with the snapshot once the follower holds everything it covered, or once it
      // can continue from our log; a newer snapshot is sent if it still lags behind it.
      const pending = progress.pendingSnapshot;
      const caughtUp = progress.match + 1 >= this.log.firstIndex();
      if (caughtUp || (pending !== undefined && progress.match >= pending.metadata.index)) {
        progress.becomeProbe();
        if (caughtUp) progress.becomeReplicate();
      } else if (!updated) {
        return;
      }
    } else if (!updated) {
      // An answer to our current probe that only confirms what we knew: the logs agree.
      if (progress.state !== 'probe' || message.index !== progress.next - 1) return;
      progress.becomeReplicate();
    } else if (progress.state === 'probe') {
      progress.becomeReplicate();
    } else {
      progress.inflights.freeThrough(message.index);
    }
    if (updated) this.advanceCommit();
    if (this.currentRole !== 'leader') return;
    while (this.sendAppend(message.from, false)) {
      // Keep filling the window while there are entries to send.
    }
    if (message.from === this.leadTransferee && progress.match === this.log.lastIndex()) {
      this.sendTimeoutNow(message.from);
    }
  }

  private handleHeartbeatResponse(message: HeartbeatResponse): void {
    const progress = this.progress.get(message.from);
    if (progress === undefined) return;
    progress.recentActive = true;
    progress.probeSent = false;
    if (message.sentTick > progress.leaseAckTick) progress.leaseAckTick = message.sentTick;
    if (progress.match < this.log.lastIndex()) {
      // Appends may have been lost: make room in a full window and send even an empty append,
      // whose rejection moves the follower back to probing.
      if (progress.state === 'replicate' && progress.inflights.full()) progress.inflights.freeFirst();
      this.sendAppend(message.from, true);
    }
    if (message.context === '') return;
    const read = this.readOnly.acknowledge(message.context, message.from);
    if (read === undefined) return;
    if (!quorumActive(this.clusterConfig, (node) => read.acks.has(node))) return;
    for (const released of this.readOnly.releaseThrough(read)) {
      this.answerRead(released.requestId, released.from, released.index);
    }
  }

  private handleSnapshotResponse(message: SnapshotResponse): void {
    const progress = this.progress.get(message.from);
    if (progress === undefined) return;
    progress.recentActive = true;
    const snapshot = progress.pendingSnapshot;
    if (progress.state !== 'snapshot' || snapshot === undefined) return;
    if (snapshot.metadata.index !== message.index) return;
    // Only progress (or a restart from zero) moves the transfer; duplicates are ignored so
    // retransmissions never multiply into parallel streams.
    const restarted = message.nextOffset === 0 && progress.snapshotOffset > 0;
    if (message.nextOffset <= progress.snapshotOffset && !restarted) return;
    progress.snapshotOffset = Math.min(message.nextOffset, snapshot.byteLength);
    if (progress.snapshotOffset < snapshot.byteLength) this.sendSnapshotChunk(message.from, progress);
  }

  /** Commits what a quorum holds, if that moves the commit index, and acts on it. */
  private advanceCommit(): void {
    const index = quorumIndex(this.clusterConfig, (node) => this.progress.get(node)?.match ?? 0);
    const committedBefore = this.log.committed;
    if (index <= committedBefore) return;
    // Figure 8: only an entry of the current term may be committed by counting replicas.
    if (
      this.log.term(index) !== this.currentTerm &&
      this.settings.unsafeCommitByCountingOlderTerms !== true
    ) {
      return;
    }
    this.log.commitTo(index);
    this.onCommitAdvanced(committedBefore);
  }

  private onCommitAdvanced(committedBefore: number): void {
    this.broadcastPending = true;
    if (this.commitWaitedFor(committedBefore)) this.broadcastCommitPending = true;
    else this.commitDeferred = true;

    if (!this.committedInTerm && this.log.term(this.log.committed) === this.currentTerm) {
      this.committedInTerm = true;
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      for (const read of waiting) this.acceptRead(read.requestId, read.from);
    }
    const committed = this.log.committed;
    if (this.pendingConfigIndex > committed) return;
    if (isJoint(this.clusterConfig)) {
      // The joint configuration is committed: move on to the new one by ourselves. First tell
      // every member the new commit index, the voters leaving too: leaving the joint
      // configuration stops replication to them, and this is how they learn of their removal.
      this.flushBroadcast();
      this.appendLocal('config', encodeConfigChange({ type: 'leaveJoint' }));
      return;
    }
    if (!isVoterIn(this.clusterConfig, this.id)) {
      // Our removal is committed; someone else must lead now.
      this.flushBroadcast();
      this.becomeFollower(this.currentTerm, 0);
    }
  }

  /**
   * Whether the commit that just moved past `committedBefore` must reach every follower at once:
   * always unless `deferCommitOnlyAppends`; with it, when it commits a configuration entry
   * (membership changes and the leader's first entry of its term announce themselves as before)
   * or an entry proposed with `urgentCommit: true`. An entry proposed with a follower's id as
   * `urgentCommit` sends the commit at once to that follower only (`urgentCommitFollowers`).
   */
  private commitWaitedFor(committedBefore: number): boolean {
    if (this.settings.deferCommitOnlyAppends !== true) return true;
    const committed = this.log.committed;
    let everyone = this.pendingConfigIndex > committedBefore && this.pendingConfigIndex <= committed;
    let settled = 0;
    for (; settled < this.urgentCommits.length; settled++) {
      const urgent = this.urgentCommits[settled] as { index: number; node: NodeId | 0 };
      if (urgent.index > committed) break;
      if (urgent.node === 0) everyone = true;
      else this.urgentCommitFollowers.add(urgent.node);
    }
    if (settled > 0) this.urgentCommits.splice(0, settled);
    return everyone;
  }

  /** A tick sends the commit index to each follower whose latest append carried an older one. */
  private sendDeferredCommit(): void {
    this.commitDeferred = false;
    const committed = this.log.committed;
    for (const [node, progress] of this.progress) {
      if (node === this.id || progress.commitSent >= committed) continue;
      this.sendAppend(node, true, true);
    }
  }

  /** Sends the appends that proposals and commits since the last Ready call for, batched. */
  private flushBroadcast(): void {
    if (this.currentRole !== 'leader') return;
    if (this.readHeartbeatPending) {
      this.readHeartbeatPending = false;
      this.broadcastHeartbeat(this.readOnly.lastContext());
    }
    if (!this.broadcastPending) return;
    const everyone = this.broadcastCommitPending;
    this.broadcastPending = false;
    this.broadcastCommitPending = false;
    for (const node of this.progress.keys()) {
      if (node === this.id) continue;
      const sendIfEmpty = everyone || this.urgentCommitFollowers.has(node);
      if (this.sendAppend(node, sendIfEmpty, sendIfEmpty)) {
        while (this.sendAppend(node, false)) {
          // Fill the window.
        }
      }
    }
    this.urgentCommitFollowers.clear();
  }

  /**
   * Sends the next append to `to`; false when paused or (unless `sendIfEmpty`) nothing to send.
   * `commitOnly`: an empty append sent for a new commit index; to a follower in `replicate`
   * (known to match) it asks for no answer unless refused: its success would only repeat the
   * match the leader has, and with one client that was half of the acknowledgements a leader
   * read per write. Probes and the heartbeat's retry still want theirs.
   */
  private sendAppend(to: NodeId, sendIfEmpty: boolean, commitOnly = false): boolean {
    const progress = this.progress.get(to);
    if (progress === undefined || progress.isPaused()) return false;
    const prevIndex = progress.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const lastIndex = this.log.lastIndex();
    const entries =
      prevTerm === UNKNOWN_TERM
        ? undefined
        : this.log.entries(progress.next, lastIndex + 1, this.settings.maxAppendBytes);
    if (entries === undefined) return this.sendSnapshot(to, progress);
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = this.log.lastEntriesBytes;
    if (entries.length > MAX_ENTRIES_PER_APPEND) {
      entries.length = MAX_ENTRIES_PER_APPEND;
      bytes = 0;
      for (const entry of entries) bytes += entrySizeBytes(entry);
    }
    const message: AppendRequest = {
      type: 'append',
      from: this.id,
      to,
      term: this.currentTerm,
      prevIndex,
      prevTerm,
      entries,
      commit: this.log.committed,
    };
    this.outbox.push(
      commitOnly && entries.length === 0 && progress.state === 'replicate'
        ? { ...message, answerOnlyIfRefused: true }
        : message,
    );
    progress.commitSent = message.commit;
    progress.sentEntries(prevIndex + entries.length, entries.length, bytes);
    return entries.length > 0 || sendIfEmpty;
  }

  private sendSnapshot(to: NodeId, progress: Progress): boolean {
    const snapshot = this.log.storage.snapshot();
    if (snapshot.metadata.index === 0) return false;
    progress.becomeSnapshot(snapshot);
    this.sendSnapshotChunk(to, progress);
    return false;
  }

  private sendSnapshotChunk(to: NodeId, progress: Progress): void {
    const snapshot = progress.pendingSnapshot;
    assert(snapshot !== undefined, 'sending a chunk without a snapshot');
    const offset = progress.snapshotOffset;
    this.snapshotReads.push({
      from: this.id,
      to,
      term: this.currentTerm,
      metadata: snapshot.metadata,
      offset,
      length: Math.min(SNAPSHOT_CHUNK_BYTES, snapshot.byteLength - offset),
      totalBytes: snapshot.byteLength,
    });
  }

  private broadcastHeartbeat(context: string): void {
    for (const [node, progress] of this.progress) {
      if (node === this.id) continue;
      this.outbox.push({
        type: 'heartbeat',
        from: this.id,
        to: node,
        term: this.currentTerm,
        commit: Math.min(progress.match, this.log.committed),
        context,
        sentTick: this.tickCount,
      });
      // Heartbeats double as the retransmission timer of a snapshot transfer.
      if (progress.state === 'snapshot' && progress.pendingSnapshot !== undefined) {
        this.sendSnapshotChunk(node, progress);
      }
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', from: this.id, to, term: this.currentTerm });
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = 0;
    // Acks of heartbeats sent during the transfer may have come from nodes that then voted
    // for the transferee; they must not extend the lease.
    this.leaseNotBeforeTick = this.tickCount;
  }

  // ---------------------------------------------------------------- reads

  /** False when the queue is full. */
  private acceptRead(requestId: string, from: NodeId): boolean {
    if (!this.committedInTerm) {
      // Until an entry of this term commits, our commit index may lag the true one.
      if (this.readsAwaitingCommit.length >= MAX_PENDING_READS) return false;
      this.readsAwaitingCommit.push({ requestId, from });
      return true;
    }
    const index = this.log.committed;
    if (this.leaseValid() || this.quorumIsSelf()) {
      this.answerRead(requestId, from, index);
      return true;
    }
    if (this.readOnly.size >= MAX_PENDING_READS) return false;
    this.readOnly.add(requestId, from, index, this.id);
    // One heartbeat round per Ready confirms every read queued so far.
    this.readHeartbeatPending = true;
    return true;
  }

  private quorumIsSelf(): boolean {
    return quorumActive(this.clusterConfig, (node) => node === this.id);
  }

  private leaseValid(): boolean {
    if (this.settings.leaseRead?.enabled !== true || this.leadTransferee !== 0) return false;
    const acknowledgedTick = quorumIndex(this.clusterConfig, (node) =>
      node === this.id ? this.tickCount : (this.progress.get(node)?.leaseAckTick ?? Number.NEGATIVE_INFINITY),
    );
    if (acknowledgedTick < this.leaseNotBeforeTick) return false;
    return this.tickCount - acknowledgedTick < leaseDurationTicks(this.settings);
  }

  private answerRead(requestId: string, from: NodeId, index: number): void {
    if (from === this.id) {
      this.pushReadState({ requestId, index });
      return;
    }
    this.send({
      type: 'readIndexResponse',
      from: this.id,
      to: from,
      term: this.currentTerm,
      requestId,
      index,
      success: true,
    });
  }

  private dropLeaderReads(): void {
    const pending = [...this.readsAwaitingCommit, ...this.readOnly.drain()];
    this.readsAwaitingCommit = [];
    for (const read of pending) {
      if (read.from === this.id) this.pushDroppedRead(read.requestId);
      else this.refuseRead(read.requestId, read.from);
    }
  }

  private pushReadState(state: ReadState): void {
    if (this.readStates.length >= MAX_BUFFERED_READ_STATES) {
      this.pushDroppedRead(state.requestId);
      return;
    }
    this.readStates.push(state);
  }

  private pushDroppedRead(requestId: string): void {
    // Bounded by the same limit; past it the host's own read timeout takes over.
    if (this.droppedReads.length < MAX_BUFFERED_READ_STATES) this.droppedReads.push(requestId);
  }

  // ---------------------------------------------------------------- log and config

  /** Appends entries received from the leader (possibly replacing a conflicting suffix). */
  private appendEntries(entries: readonly Entry[]): void {
    this.log.append(entries);
    this.recordConfigEntries(entries);
  }

  /** Keeps the configuration history in step with the log: a config takes effect when appended. */
  private recordConfigEntries(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const from = entries[0]!.index;
    let changed = false;
    while (this.configHistory.length > 1 && this.configHistory.at(-1)!.index >= from) {
      this.configHistory.pop();
      changed = true;
    }
    for (const entry of entries) {
      if (entry.kind !== 'config') continue;
      const previous = this.configHistory.at(-1)!.config;
      const next = applyConfigChange(previous, decodeConfigChange(entry.data));
      this.configHistory.push({ index: entry.index, config: next });
      if (entry.index > this.pendingConfigIndex) this.pendingConfigIndex = entry.index;
      changed = true;
    }
    if (changed) this.setConfig(this.configHistory.at(-1)!.config);
    this.trimConfigHistory();
  }

  /** Forgets configurations older than the one in force at the log's start. */
  private trimConfigHistory(): void {
    const base = this.log.firstIndex() - 1;
    let drop = 0;
    while (drop + 1 < this.configHistory.length && this.configHistory[drop + 1]!.index <= base) drop++;
    if (drop > 0) this.configHistory.splice(0, drop);
  }

  private setConfig(config: ClusterConfig): void {
    this.clusterConfig = config;
    if (this.currentRole === 'follower' || this.currentRole === 'learner') {
      this.currentRole = this.followerRole();
    }
    if (this.currentRole !== 'leader') return;
    this.syncProgressWithConfig();
    if (this.leadTransferee !== 0 && !config.voters.includes(this.leadTransferee)) this.abortLeaderTransfer();
  }

  private syncProgressWithConfig(): void {
    const members = membersOf(this.clusterConfig);
    const memberSet = new Set(members);
    for (const node of this.progress.keys()) {
      if (!memberSet.has(node)) this.progress.delete(node);
    }
    const next = this.log.lastIndex() + 1;
    for (const node of members) {
      const isLearner = !isVoterIn(this.clusterConfig, node);
      const existing = this.progress.get(node);
      if (existing !== undefined) {
        existing.isLearner = isLearner;
        continue;
      }
      const progress = new Progress(
        next,
        isLearner,
        this.settings.maxInflightMessages,
        this.settings.maxInflightBytes,
      );
      if (node === this.id) {
        progress.becomeReplicate();
        progress.maybeUpdate(this.log.lastStableIndex());
      }
      this.progress.set(node, progress);
    }
    this.broadcastPending = true;
  }

  // ---------------------------------------------------------------- outbox

  private send(message: Message): void {
    if (SENT_AFTER_PERSIST.has(message.type)) this.outboxAfterPersist.push(message);
    else this.outbox.push(message);
  }

  private sendAppendResponse(
    to: NodeId,
    success: boolean,
    index: number,
    conflictTerm: number,
    conflictIndex: number,
  ): void {
    this.outboxAfterPersist.push({
      type: 'appendResponse',
      from: this.id,
      to,
      term: this.currentTerm,
      success,
      index,
      conflictTerm,
      conflictIndex,
    });
  }

  private sendSnapshotResponse(to: NodeId, index: number, nextOffset: number): void {
    this.outboxAfterPersist.push({
      type: 'snapshotResponse',
      from: this.id,
      to,
      term: this.currentTerm,
      index,
      nextOffset,
    });
  }

  private hardStateChanged(): boolean {
    const previous = this.previousHardState;
    return (
      previous.term !== this.currentTerm ||
      previous.vote !== this.votedFor ||
      previous.commit !== this.log.committed
    );
  }

  private softStateChanged(): boolean {
    const previous = this.previousSoftState;
    return previous.leaderId !== this.leader || previous.role !== this.currentRole;
  }
}

function readRefusal(requestId: string): Pick<ReadIndexResponse, 'type' | 'requestId' | 'index' | 'success'> {
  return { type: 'readIndexResponse', requestId, index: 0, success: false };
}
