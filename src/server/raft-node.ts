import {
  assert,
  type Clock,
  type Disk,
  type FedTask,
  type Logger,
  MeshError,
  type Random,
  type StepDetails,
  type StepObserver,
  type SteppedTask,
  type StepSource,
  type StepStartObserver,
  singleStep,
  type TimerId,
} from '../lib/index.js';
import { silentLogger, type TraceStage, traceStage } from '../lib/node/index.js';
import {
  type ClusterConfig,
  type ConfigChange,
  DEFAULT_ELECTION_TICKS,
  DEFAULT_HEARTBEAT_TICKS,
  DEFAULT_MAX_APPEND_BYTES,
  DEFAULT_MAX_INFLIGHT_BYTES,
  DEFAULT_MAX_INFLIGHT_MESSAGES,
  DEFAULT_TICK_INTERVAL_MS,
  decodeMessage,
  EMPTY_CONFIG,
  type Entry,
  encodeMessage,
  MAX_COMMITTED_ENTRIES_PER_READY,
  MemoryRaftStorage,
  type Message,
  type NodeId,
  NotLeaderError,
  Raft,
  type RaftStatus,
  type Ready,
  type ReadyOptions,
  type Role,
  type SnapshotChunkRead,
  type SnapshotInfo,
  snapshotInfo,
  TooManyPendingReadsError,
} from '../raft/index.js';
import {
  openRaftLogStore,
  type RaftLogStore,
  type SnapshotReception,
  type StoreMetrics,
} from '../store/index.js';
import { AppliedWaiters } from './applied-waiters.js';
import {
  fromStoredEntry,
  fromStoredSnapshot,
  toStoredEntry,
  toStoredHardState,
  toStoredSnapshot,
} from './raft-records.js';
import { type ReadyPhase, ReadyStretchTrace } from './ready-stretch-trace.js';
import { SnapshotChunkSender } from './snapshot-chunk-sender.js';
import { snapshotDue } from './snapshot-schedule.js';
import { TickSchedule } from './tick-schedule.js';
import { ProposalWaiters, ReadDroppedError, ReadWaiters } from './waiters.js';

/**
 * A snapshot is taken once this many entries were applied since the last one. It is encoded a
 * step at a time while the node goes on (seconds for a million keys), so it should stay rare.
 */
export const DEFAULT_SNAPSHOT_EVERY_ENTRIES = 100_000;
/** Bytes of a snapshot file read per part while a restore is fed from it. */
export const RESTORE_READ_BYTES = 1024 * 1024;

/** Entries kept in the log behind a snapshot, so slightly lagging followers need no snapshot. */
export const LOG_ENTRIES_KEPT_AFTER_SNAPSHOT = 5_000;
/** Proposals waiting for apply at once; more are refused so memory stays bounded. */
export const MAX_PENDING_PROPOSALS = 100_000;
/** Linearizable reads waiting here at once (queued, in flight or applying); more are refused. */
export const MAX_WAITING_READS = 100_000;
/**
 * A drain of Readys that has run this long, or applied `MAX_APPLIED_ENTRIES_PER_TURN` entries,
 * hands the event loop back and goes on in the next turn, so a backlog of commits (a follower
 * catching up, a node that was descheduled) is applied in slices between which sockets and
 * timers are served, not in one stall of hundreds of ms.
 */
export const DRAIN_TURN_BUDGET_MS = 10;
/** Committed entries one drain applies before it hands the event loop back (see above). */
export const MAX_APPLIED_ENTRIES_PER_TURN = MAX_COMMITTED_ENTRIES_PER_READY;

/** How the node reaches its peers; `PeerTransport` is the production one. */
export interface PeerLink {
  send(peer: NodeId, payload: Uint8Array): boolean;
  /**
   * Optional: sends a message encoded behind `headroomBytes` free bytes, which the link fills
   * with its own header in place, sparing the copy (and the buffer) `send` makes per message.
   * The link takes the bytes over: the sender never touches them again.
   */
  readonly inPlace?: { readonly headroomBytes: number; send(peer: NodeId, bytes: Uint8Array): boolean };
  onMessage(handler: (from: NodeId, payload: Uint8Array) => void): void;
  onUnreachable(handler: (peer: NodeId) => void): void;
  /** Writes queued messages now rather than at the end of the turn (optional; see `drain`). */
  flush?(): void;
  /** An established connection to `peer` closed: it may have died. Links that cannot tell omit it. */
  onPeerLost?(handler: (peer: NodeId) => void): void;
}

/** The replicated state machine the node applies committed entries to. */
export interface ReplicatedStateMachine<Result> {
  /** Applies one committed entry of any kind; results of normal entries go to their proposers. */
  apply(entry: Entry): Result;
  snapshot(): Uint8Array;
  restore(data: Uint8Array): void;
  /**
   * Optional: a snapshot of the state as of now, encoded a bounded step at a time, as parts
   * whose concatenation is the snapshot (saved one after another: no snapshot-sized buffer is
   * made). The node applies entries between steps, which must not change what it encodes.
   * Without it the node calls `snapshot` in one go.
   */
  startSnapshotParts?(): SteppedTask<readonly Uint8Array[]>;
  /**
   * Optional: replaces the state with a snapshot's a bounded step at a time; the node applies
   * nothing until the last step. Without it the node calls `restore` in one go.
   */
  startRestore?(data: Uint8Array): SteppedTask<void>;
  /**
   * Optional: `startRestore` of a snapshot of `byteLength` bytes fed in parts as they are read
   * from its file, so the node never holds the whole snapshot. Without it the node reads the file
   * whole and calls `startRestore`.
   */
  startRestoreFrom?(byteLength: number): FedTask<void>;
}

function snapshotTask<Result>(machine: ReplicatedStateMachine<Result>): SteppedTask<readonly Uint8Array[]> {
  return machine.startSnapshotParts?.() ?? singleStep(() => [machine.snapshot()]);
}

function restoreTask<Result>(machine: ReplicatedStateMachine<Result>, data: Uint8Array): SteppedTask<void> {
  return machine.startRestore?.(data) ?? singleStep(() => machine.restore(data));
}

export interface RaftNodeOptions<Result> {
  readonly id: NodeId;
  readonly dataDirectory: string;
  /** Voters of a new cluster, used on the first start only. Empty to join an existing cluster. */
  readonly initialVoters: readonly NodeId[];
  readonly disk: Disk;
  readonly clock: Clock;
  readonly random: Random;
  readonly link: PeerLink;
  readonly stateMachine: ReplicatedStateMachine<Result>;
  readonly tickIntervalMs?: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly snapshotEveryEntries?: number;
  /**
   * This member's phase in [0, 1) of the snapshot interval (`snapshot-schedule.ts`): members
   * given different phases snapshot at different indexes. Unset: every `snapshotEveryEntries`
   * entries after the last snapshot.
   */
  readonly snapshotPhase?: number;
  readonly logEntriesKeptAfterSnapshot?: number;
  /** See `RaftConfig.deferCommitOnlyAppends`; `propose(data, true)` marks a commit as waited for. */
  readonly deferCommitOnlyAppends?: boolean;
  /**
   * Runs `work` soon, after the current turn, so that everything that happens in one turn
   * shares one Ready. Defaults to `setImmediate`; the simulator passes its own scheduler.
   */
  readonly defer?: (work: () => void) => void;
  /** Told how each proposal made on this node ended (applied, or refused/failed), for metrics. */
  readonly onProposalSettled?: (applied: boolean) => void;
  /** Told how long each persist (append and fdatasync) took, for metrics. */
  readonly onPersisted?: (durationMs: number) => void;
  /**
   * Writes what was sent so far once the promise reactions queued so far have run, still in this
   * turn of the event loop (a node passes `endOfTurn.writeAfterReactions`). A drain that starts no
   * log write ends with it instead of flushing its link at once, so that what its proposers'
   * reactions send (the answer to a write a follower forwarded) shares one socket write with the
   * Ready's messages: a TLS socket takes one write per turn, and a second waits for the next turn.
   * Without it a drain flushes its link at once.
   */
  readonly flushAfterReactions?: () => void;
  /**
   * Runs `work` as soon as the callback running now returns, still in the same phase of the event
   * loop (a node passes `queueMicrotask`). With it, entries that a peer message commits (a leader's
   * acknowledgement, a follower's append or heartbeat with a higher commit index) are applied
   * there, in the poll phase that read the message, by a drain that writes nothing and leaves its
   * messages to the end of the turn; without it they wait for the scheduled drain in the check
   * phase. Why: what the proposers then answer on the client port is an HTTP/2 write, which Node
   * queues as an immediate of its own; queued from the poll phase it runs in this turn's check
   * phase, queued from the check phase (from the scheduled drain) only in the next turn's.
   */
  readonly atCallbackEnd?: (work: () => void) => void;
  /** Told how long each synchronous piece of the node's work held the event loop, for metrics. */
  readonly onStep?: StepObserver;
  /** Told as each such piece starts (so its start can be read off the scheduler). */
  readonly onStepStart?: StepStartObserver;
  /**
   * Hears how late each firing of the tick timer was, ms: the event loop's delay, measured on
   * the one timer a node has due every tick interval anyway (no probe timer of its own).
   */
  readonly onTickTimer?: (latenessMs: number) => void;
  readonly logger?: Logger;
  /** Largest append message, in bytes (default DEFAULT_MAX_APPEND_BYTES); the simulator varies it. */
  readonly maxAppendBytes?: number;
  /** DEBUG ONLY, for the simulator's self-test: the figure-8 commit bug (see `RaftConfig`). */
  readonly unsafeCommitByCountingOlderTerms?: boolean;
}

export interface LeaderInfo {
  readonly leaderId: NodeId | 0;
  readonly term: number;
}

export class NodeStoppedError extends MeshError {
  constructor() {
    super('NODE_STOPPED', 'the node is stopped');
  }
}

export class TooManyPendingProposalsError extends MeshError {
  constructor(limit: number) {
    super('TOO_MANY_REQUESTS', `more than ${limit} proposals are waiting to be applied`, {
      details: { limit },
    });
  }
}

/** The recovered hard state commits entries the log does not hold: the disk lost writes. */
class StoreLostEntriesError extends MeshError {
  constructor(directory: string, commit: number, lastIndex: number) {
    super(
      'STORE_CORRUPT',
      `the log in ${directory} ends at index ${lastIndex} but its hard state commits through ${commit}: acknowledged writes were lost`,
      { details: { directory, commit, lastIndex } },
    );
  }
}

/** This node was removed from the cluster's configuration: it takes no further part and serves nothing. */
export class MemberRemovedError extends MeshError {
  constructor(id: NodeId) {
    super('MEMBER_REMOVED', `member ${id} has been permanently removed from the cluster`, {
      details: { id },
    });
  }
}

/**
 * Proposals made here as leader stay waiting this many election timeouts after it stops
 * leading: the next leader usually commits them (a handed-over leader's log is complete on its
 * successor) or overwrites them, which answers them for certain; only after it do they get
 * an unknown outcome (`LEADER_CHANGED`).
 */
export const PROPOSALS_AFTER_STEP_DOWN_WAIT_ELECTION_TIMEOUTS = 2;

export class ReadyTimeoutError extends MeshError {
  constructor(timeoutMs: number) {
    super('TIMEOUT', `the node did not become ready within ${timeoutMs} ms`, { details: { timeoutMs } });
  }
}

/**
 * One Raft participant with its IO: it ticks the pure core on the clock, steps peer messages
 * into it, and runs the Ready loop — persist (group-committed), send, apply, advance — one
 * Ready at a time. Messages that depend on persisted state leave only after the persist.
 */
export class RaftNode<Result> {
  private readonly raft: Raft;
  private readonly proposals: ProposalWaiters<Result>;
  private readonly reads = new ReadWaiters();
  private readonly appliedWaiters = new AppliedWaiters();
  /** What the current drain stretch did, for the log of long stretches. */
  private readonly stretchTrace = new ReadyStretchTrace();
  private readonly stretchDetails = (): StepDetails => this.stretchTrace.details();
  /** When the current phase of the stretch's trace started. */
  private phaseStartedMs = 0;
  private readonly readTimers = new Map<string, TimerId>();
  private readonly leaderListeners = new Set<(info: LeaderInfo) => void>();
  private readonly readyListeners = new Set<() => void>();
  private readonly removedListeners = new Set<() => void>();
  private readonly failedListeners = new Set<(error: Error) => void>();
  /** Whether an applied configuration held this node: only a member can be removed. */
  private wasMember = false;
  private removed = false;
  private tickTimer: TimerId | undefined;
  private readonly ticks: TickSchedule;
  private processing = false;
  private scheduled = false;
  /**
   * This turn's drain of what peer messages committed (see `atCallbackEnd`): none yet, queued
   * for the end of their callback, or done. One per turn, so that a backlog of commits is still
   * applied in bounded slices with sockets and timers served between them (`DRAIN_TURN_BUDGET_MS`):
   * later commits of the turn wait for its scheduled drain, which starts the next turn's count.
   */
  private commitDrain: 'none' | 'queued' | 'done' = 'none';
  private stopped = false;
  private failure: Error | undefined;
  private idleWaiters: Array<() => void> = [];
  private appliedIndex: number;
  private snapshotIndex: number;
  private leader: LeaderInfo = { leaderId: 0, term: 0 };
  private isReadyFlag = false;
  private leadershipLost = false;
  /** Term and vote of the newest hard state handed to the store (written in order). */
  private queuedTerm = 0;
  private queuedVote = 0;
  /** Writes handed to the store and not yet done. */
  private writesInFlight = 0;
  /** Ready steps waiting in `persistChain` (each runs after the writes before it). */
  private afterPersistSteps = 0;
  /** Settles after the newest Ready's write and its after-persist step (see `handleReady`). */
  private persistChain: Promise<void> = Promise.resolve();
  private readonly tickIntervalMs: number;
  private readonly electionTimeoutMs: number;
  /** A ReadIndex request unanswered this long fails its reads (two election timeouts). */
  private readonly readTimeoutMs: number;
  private readonly snapshotEveryEntries: number;
  /** The snapshot being taken in the background, from encoding to log compaction. */
  private snapshotting: SteppedTask<readonly Uint8Array[]> | undefined;
  /**
   * Bytes of snapshots held in memory: one encoded until its file is saved, or one received
   * until it is restored. Followers are sent snapshots from their files, so 0 otherwise.
   */
  private snapshotBytesHeld = 0;
  private readonly snapshotChunks: SnapshotChunkSender;
  /** The file of the snapshot being received from the leader, written chunk by chunk. */
  private reception: SnapshotReception | undefined;
  /** Settles once the background snapshot (if any) stopped. */
  private snapshotRun: Promise<void> = Promise.resolve();
  private readonly logger: Logger;

  private constructor(
    private readonly options: RaftNodeOptions<Result>,
    private readonly store: RaftLogStore,
    private readonly storage: MemoryRaftStorage,
    appliedIndex: number,
  ) {
    this.proposals = new ProposalWaiters<Result>(options.onProposalSettled);
    this.tickIntervalMs = options.tickIntervalMs ?? DEFAULT_TICK_INTERVAL_MS;
    this.ticks = new TickSchedule(this.tickIntervalMs, options.clock.nowMs());
    this.electionTimeoutMs = this.tickIntervalMs * (options.electionTicks ?? DEFAULT_ELECTION_TICKS);
    this.readTimeoutMs = 2 * this.electionTimeoutMs;
    this.snapshotEveryEntries = options.snapshotEveryEntries ?? DEFAULT_SNAPSHOT_EVERY_ENTRIES;
    this.logger = options.logger ?? silentLogger;
    this.appliedIndex = appliedIndex;
    this.snapshotIndex = appliedIndex;
    this.wasMember = holdsMember(storage.initialState().config, options.id);
    const durable = storage.initialState().hardState;
    this.queuedTerm = durable.term;
    this.queuedVote = durable.vote;
    this.raft = new Raft({
      id: options.id,
      electionTicks: options.electionTicks ?? DEFAULT_ELECTION_TICKS,
      heartbeatTicks: options.heartbeatTicks ?? DEFAULT_HEARTBEAT_TICKS,
      preVote: true,
      checkQuorum: true,
      maxInflightMessages: DEFAULT_MAX_INFLIGHT_MESSAGES,
      maxInflightBytes: DEFAULT_MAX_INFLIGHT_BYTES,
      maxAppendBytes: options.maxAppendBytes ?? DEFAULT_MAX_APPEND_BYTES,
      random: options.random,
      storage,
      applied: appliedIndex,
      unsafeCommitByCountingOlderTerms: options.unsafeCommitByCountingOlderTerms === true,
      deferCommitOnlyAppends: options.deferCommitOnlyAppends === true,
    });
    this.snapshotChunks = new SnapshotChunkSender({
      read: (index, offset, length) => this.store.readSnapshotData(index, offset, length),
      send: (chunk) => this.send([chunk]),
      failed: (read, error) => this.snapshotReadFailed(read, error),
    });
    options.link.onMessage((from, payload) => this.receive(from, payload));
    options.link.onUnreachable((peer) => {
      if (!this.stopped) this.raft.reportUnreachable(peer);
    });
    options.link.onPeerLost?.((peer) => {
      if (this.stopped) return;
      // When `peer` is our leader, campaign soon rather than after a whole election timeout.
      this.raft.reportLeaderLost(peer);
      this.schedule();
    });
  }

  /** Recovers durable state from the data directory (creating it when new) and starts ticking. */
  static async start<Result>(options: RaftNodeOptions<Result>): Promise<RaftNode<Result>> {
    const { store, recovered } = await openRaftLogStore(options.disk, options.dataDirectory, {
      clock: options.clock,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    const isNew =
      recovered.snapshot === undefined && recovered.entries.length === 0 && recovered.hardState.term === 0;
    let storage: MemoryRaftStorage;
    let appliedIndex = 0;
    if (isNew) {
      // A founding member's log starts with committed entries that set up the membership;
      // they are made durable before the node says anything.
      const voters = [...options.initialVoters].sort((a, b) => a - b);
      storage = new MemoryRaftStorage(voters.length === 0 ? EMPTY_CONFIG : { ...EMPTY_CONFIG, voters });
      const last = storage.lastIndex();
      if (last >= 1) {
        await store.append(
          storage.entries(1, last + 1).map(toStoredEntry),
          toStoredHardState(storage.initialState().hardState),
        );
      }
    } else if (recovered.snapshot !== undefined) {
      const snapshot = fromStoredSnapshot(recovered.snapshot);
      // Storage keeps the snapshot's size only: followers are sent its bytes from its file.
      storage = MemoryRaftStorage.fromSnapshot(snapshotInfo(snapshot));
      // A step per turn: the process's other services (peer links, timers) go on meanwhile.
      await runInTurns(
        restoreTask(options.stateMachine, snapshot.data),
        'startup-restore-step',
        options,
        () => false,
      );
      appliedIndex = snapshot.metadata.index;
    } else {
      storage = new MemoryRaftStorage();
    }
    if (!isNew) {
      storage.append(recovered.entries.map(fromStoredEntry));
      // Entries are written before the hard state that commits them, in one ordered log; a
      // commit index past the last entry means the disk lost acknowledged writes.
      if (recovered.hardState.commit > storage.lastIndex()) {
        await store.close();
        throw new StoreLostEntriesError(
          options.dataDirectory,
          recovered.hardState.commit,
          storage.lastIndex(),
        );
      }
      storage.setHardState({
        ...recovered.hardState,
        commit: Math.max(recovered.hardState.commit, appliedIndex),
      });
    }
    const node = new RaftNode(options, store, storage, appliedIndex);
    node.scheduleTick();
    node.schedule();
    return node;
  }

  get id(): NodeId {
    return this.options.id;
  }

  isLeader(): boolean {
    return this.raft.role === 'leader';
  }

  role(): Role {
    return this.raft.role;
  }

  leaderInfo(): LeaderInfo {
    return this.leader;
  }

  status(): RaftStatus {
    return this.raft.status();
  }

  storeMetrics(): Readonly<StoreMetrics> {
    return this.store.metrics;
  }

  get applied(): number {
    return this.appliedIndex;
  }

  /** Resolves once this node applied through `index` (at once if it has); rejects if it stops. */
  waitApplied(index: number): Promise<void> {
    if (index <= this.appliedIndex) return Promise.resolve();
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.stopped) return Promise.reject(new NodeStoppedError());
    return this.appliedWaiters.wait(index);
  }

  /**
   * What the node holds in memory of its log: entries after the snapshot, and snapshot bytes
   * (only while one is saved or installed; see `snapshotBytesHeld`).
   */
  logMemory(): { readonly entries: number; readonly snapshotBytes: number } {
    return {
      entries: this.storage.lastIndex() - this.storage.firstIndex() + 1,
      snapshotBytes: this.snapshotBytesHeld,
    };
  }

  /** True once a leader is known and this node has applied everything committed so far. */
  isReady(): boolean {
    return this.isReadyFlag;
  }

  onLeaderChange(listener: (info: LeaderInfo) => void): () => void {
    this.leaderListeners.add(listener);
    return () => this.leaderListeners.delete(listener);
  }

  async waitReady(timeoutMs: number): Promise<void> {
    if (this.isReadyFlag) return;
    await new Promise<void>((resolve, reject) => {
      const timer = this.options.clock.setTimer(timeoutMs, () => {
        this.readyListeners.delete(onReady);
        reject(new ReadyTimeoutError(timeoutMs));
      });
      const onReady = (): void => {
        this.options.clock.clearTimer(timer);
        this.readyListeners.delete(onReady);
        resolve();
      };
      this.readyListeners.add(onReady);
    });
  }

  /**
   * Proposes `data`; resolves with the state machine's result once it is applied here.
   * `urgentCommit`: a follower (`true`: any; a node id: that one) waits for the entry's commit
   * (see `RaftConfig.deferCommitOnlyAppends`).
   */
  propose(data: Uint8Array, urgentCommit: boolean | NodeId = false): Promise<Result> {
    this.checkRunning();
    if (this.proposals.size >= MAX_PENDING_PROPOSALS) {
      return Promise.reject(new TooManyPendingProposalsError(MAX_PENDING_PROPOSALS));
    }
    let index: number;
    try {
      index = this.raft.propose(data, urgentCommit);
    } catch (error) {
      this.options.onProposalSettled?.(false);
      return Promise.reject(error);
    }
    traceStage?.('proposed', index);
    this.schedule();
    // The waiters tell `onProposalSettled` how it ends.
    return this.proposals.add(index, this.raft.term);
  }

  /** Proposes a membership change; resolves once it is applied here. */
  proposeConfigChange(change: ConfigChange): Promise<Result> {
    this.checkRunning();
    let index: number;
    try {
      index = this.raft.proposeConfigChange(change);
    } catch (error) {
      return Promise.reject(error);
    }
    this.schedule();
    return this.proposals.add(index, this.raft.term, false);
  }

  /** Resolves once this node has applied everything committed before the call (ReadIndex). */
  linearizableBarrier(): Promise<void> {
    this.checkRunning();
    if (this.reads.size >= MAX_WAITING_READS) {
      return Promise.reject(new TooManyPendingReadsError(MAX_WAITING_READS));
    }
    const done = this.reads.wait();
    this.issueReads();
    return done;
  }

  /** Hands the queued reads to Raft as one ReadIndex request, unless one is in flight. */
  private issueReads(): void {
    const requestId = this.reads.issue();
    if (requestId === undefined) return;
    try {
      this.raft.readIndex(requestId);
    } catch (error) {
      this.reads.failed(requestId, error);
      return;
    }
    // A request lost with its leader or its message would hold every later read back.
    const timer = this.options.clock.setTimer(this.readTimeoutMs, () => {
      if (this.reads.inFlightRequest() !== requestId) return;
      this.reads.failed(requestId, new ReadDroppedError(`no answer within ${this.readTimeoutMs} ms`));
      this.issueReads();
    });
    this.readTimers.set(requestId, timer);
    this.schedule();
  }

  private settleReadTimer(requestId: string): void {
    const timer = this.readTimers.get(requestId);
    if (timer === undefined) return;
    this.readTimers.delete(requestId);
    this.options.clock.clearTimer(timer);
  }

  transferLeadership(target: NodeId): void {
    this.checkRunning();
    this.raft.transferLeadership(target);
    this.schedule();
  }

  /** Starts an election at once (tests and operators; normal elections need no call). */
  campaign(): void {
    this.checkRunning();
    this.raft.campaign();
    this.schedule();
  }

  /**
   * Stops cleanly: hands leadership to the most caught-up voter when leading (waiting at most
   * `transferTimeoutMs`), stops ticking, lets the Ready in progress finish, and closes the store.
   */
  async stop(transferTimeoutMs = 0): Promise<void> {
    if (this.stopped) return;
    if (transferTimeoutMs > 0 && this.isLeader() && !this.removed)
      await this.handOverLeadership(transferTimeoutMs);
    this.stopped = true;
    if (this.tickTimer !== undefined) this.options.clock.clearTimer(this.tickTimer);
    this.cancelSnapshot();
    await this.whenIdle();
    await this.snapshotRun;
    await this.abandonReception();
    this.proposals.rejectAll(new NodeStoppedError());
    this.reads.rejectAll(new NodeStoppedError());
    this.appliedWaiters.rejectAll(new NodeStoppedError());
    for (const timer of this.readTimers.values()) this.options.clock.clearTimer(timer);
    this.readTimers.clear();
    await this.store.close();
  }

  /**
   * Hands leadership to the most caught-up other voter and waits (at most `timeoutMs`) until a
   * leader other than this node is known. Resolves with that leader, or 0 when none took over
   * (no other voter, not leading, or the transfer timed out).
   */
  async handOverLeadership(timeoutMs: number): Promise<NodeId | 0> {
    const status = this.raft.status();
    const candidates = status.progress === undefined ? [] : [...status.progress.entries()];
    const target = candidates
      .filter(
        ([node, progress]) => node !== this.id && !progress.isLearner && status.config.voters.includes(node),
      )
      .sort((a, b) => b[1].match - a[1].match)[0];
    if (target === undefined) return 0;
    try {
      return await this.transferLeadershipAndWait(target[0], timeoutMs);
    } catch (error) {
      this.logger.warn({ err: error }, 'leadership transfer failed');
      return 0;
    }
  }

  /**
   * Starts a transfer to `target` and waits (at most `timeoutMs`) until a leader other than this
   * node is known; resolves with it, or 0 on timeout. Throws NOT_LEADER when not leading and
   * INVALID_TRANSFER_TARGET when `target` is not a voter.
   */
  async transferLeadershipAndWait(target: NodeId, timeoutMs: number): Promise<NodeId | 0> {
    // Throws before anything waits; the leader changes in a later turn at the earliest.
    this.transferLeadership(target);
    return new Promise<NodeId | 0>((resolve) => {
      const timer = this.options.clock.setTimer(timeoutMs, () => {
        unsubscribe();
        resolve(0);
      });
      const unsubscribe = this.onLeaderChange((info) => {
        if (info.leaderId !== this.id && info.leaderId !== 0) {
          this.options.clock.clearTimer(timer);
          unsubscribe();
          resolve(info.leaderId);
        }
      });
    });
  }

  /** Throws why this node serves nothing (stopped, failed, removed from the cluster), if so. */
  checkRunning(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.stopped) throw new NodeStoppedError();
  }

  private scheduleTick(): void {
    if (this.stopped || this.removed) return;
    const clock = this.options.clock;
    this.tickTimer = clock.setTimer(this.ticks.delayMs(clock.nowMs()), () => {
      if (this.stopped || this.removed) return;
      const nowMs = clock.nowMs();
      this.options.onTickTimer?.(this.ticks.latenessMs(nowMs));
      const due = this.ticks.take(nowMs);
      for (let tick = 0; tick < due; tick++) this.raft.tick();
      // Most ticks change nothing a Ready carries (9 of 10 on a leader between heartbeats, nearly
      // all on a follower): a drain for them cost an immediate, an extra turn of the loop and an
      // empty drain, 100 times a second. A drain in progress loops until nothing is ready.
      if (this.raft.hasReady()) this.schedule();
      this.scheduleTick();
    });
  }

  private receive(from: NodeId, payload: Uint8Array): void {
    if (this.stopped || this.removed) return;
    const startedMs = this.startStep();
    const committedBefore = this.raft.committed;
    this.stepMessage(from, payload);
    if (this.raft.committed > committedBefore) this.queueCommitDrain();
    this.observeStep('peer-message', startedMs);
  }

  /** Applies what the peer messages of this callback committed once it returns (`atCallbackEnd`). */
  private queueCommitDrain(): void {
    const atCallbackEnd = this.options.atCallbackEnd;
    if (atCallbackEnd === undefined || this.commitDrain !== 'none') return;
    this.commitDrain = 'queued';
    atCallbackEnd(this.drainCommitted);
  }

  private readonly drainCommitted = (): void => {
    this.commitDrain = 'done';
    this.drain(true);
  };

  private stepMessage(from: NodeId, payload: Uint8Array): void {
    let message: Message;
    try {
      message = decodeMessage(payload);
    } catch (error) {
      this.logger.warn({ err: error, from }, 'dropped an undecodable peer message');
      return;
    }
    if (message.from !== from) {
      this.logger.warn(
        { from, claimed: message.from },
        'dropped a message whose sender does not match its link',
      );
      return;
    }
    if (traceStage !== undefined) traceReceived(traceStage, message);
    this.raft.step(message);
    this.schedule();
  }

  /** Marks the start of a synchronous piece of work; returns when it started. */
  private startStep(): number {
    this.options.onStepStart?.();
    return this.options.clock.nowMs();
  }

  /** Reports the synchronous work that started at `startedMs` and ends now. */
  private observeStep(source: StepSource, startedMs: number, details?: () => StepDetails): void {
    this.options.onStep?.(source, this.options.clock.nowMs() - startedMs, details);
  }

  /** Starts a drain's synchronous stretch: its step and its trace. */
  private startStretch(): number {
    const startedMs = this.startStep();
    this.stretchTrace.reset();
    this.phaseStartedMs = startedMs;
    return startedMs;
  }

  /** Charges the time since the last phase ended to `phase` of this stretch's trace. */
  private endPhase(phase: ReadyPhase): void {
    this.phaseStartedMs = this.stretchTrace.phase(phase, this.phaseStartedMs, this.options.clock.nowMs());
  }

  /** Reports this drain's stretch of Readys, with its trace should it be long. */
  private observeStretch(startedMs: number): void {
    this.observeStep('ready', startedMs, this.stretchDetails);
  }

  /** Batches everything that happened in this turn of the event loop into one Ready. */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    const defer = this.options.defer ?? setImmediate;
    defer(() => {
      this.scheduled = false;
      // A drain of commits only ran in this turn: this one flushes what it sent, Ready or not.
      const flushOwed = this.commitDrain === 'done';
      if (flushOwed) this.commitDrain = 'none';
      this.drain(false, flushOwed);
    });
  }

  /**
   * Handles Readys back to back while there are any. `commitsOnly` (a drain of what peer messages
   * committed, see `atCallbackEnd`): new entries and the hard state stay for the scheduled drain,
   * so this one starts no log write, and what it sends leaves at the end of the turn with the
   * scheduled drain's messages instead of being flushed here. Synchronous: only a Ready that
   * installs a snapshot waits (`installThenDrain`), and the drain goes on once it is installed.
   */
  private drain(commitsOnly = false, flushOwed = false): void {
    if (this.processing || this.stopped) return;
    // A drain that finds nothing (scheduled by a peer message that changed nothing to act on,
    // such as the second acknowledgement of an entry already committed) costs no stretch, no
    // step and no flush, unless it owes a drain of commits only its flush.
    if (!flushOwed && !this.raft.hasReady(this.readyOptions(commitsOnly))) return;
    this.processing = true;
    this.drainFrom(commitsOnly, false);
  }

  /**
   * How to ask the core for a Ready: while a write is in flight, new entries wait for the next
   * write (one larger batch) but commits, applies and reads go on; a drain of commits only never
   * takes writes.
   */
  private readyOptions(commitsOnly: boolean): ReadyOptions {
    return commitsOnly || this.writesInFlight > 0 ? DEFER_WRITES : TAKE_WRITES;
  }

  /** The body of a drain; `startedWrite`: a Ready handled before (a snapshot's wait) started a log write. */
  private drainFrom(commitsOnly: boolean, startedWrite: boolean): void {
    // The synchronous stretch of this drain: Readys are handled back to back in one turn.
    const stretchStartedMs = this.startStretch();
    let handBack = false;
    let appliedThisTurn = 0;
    let snapshotReady: { readonly ready: Ready; readonly snapshot: SnapshotInfo } | undefined;
    try {
      for (;;) {
        const options = this.readyOptions(commitsOnly);
        if (this.stopped || !this.raft.hasReady(options)) break;
        if (
          appliedThisTurn >= MAX_APPLIED_ENTRIES_PER_TURN ||
          this.options.clock.nowMs() - stretchStartedMs >= DRAIN_TURN_BUDGET_MS
        ) {
          handBack = true;
          break;
        }
        const ready = this.raft.ready(options);
        this.stretchTrace.countReady(ready);
        this.endPhase('core');
        appliedThisTurn += ready.committedEntries.length;
        if (ready.snapshot !== undefined) {
          snapshotReady = { ready, snapshot: ready.snapshot };
          break;
        }
        startedWrite = this.handleReady(ready) || startedWrite;
        if (this.snapshotIsDue()) this.startSnapshot();
      }
      if (snapshotReady !== undefined) {
        this.observeStretch(stretchStartedMs);
        void this.installThenDrain(snapshotReady.ready, snapshotReady.snapshot, commitsOnly, startedWrite);
        return;
      }
      // What these Readys sent leaves in this turn of the event loop, not a turn later. When they
      // started a log write, at once: a write the store runs in the microtasks that follow (an
      // inline fdatasync blocks the loop) then starts after it, and a leader's appends travel
      // while it syncs its own copy (a write done within the Ready flushed them before it
      // started, see `handleReady`). Otherwise after the reactions to what they applied, together with
      // what those send (see `flushAfterReactions`). A drain of commits only leaves it to the
      // scheduled drain of this turn, which the messages it read scheduled.
      if (!commitsOnly) {
        const flushAfterReactions = this.options.flushAfterReactions;
        if (startedWrite || flushAfterReactions === undefined) this.options.link.flush?.();
        else flushAfterReactions();
        traceStage?.('drain-flushed', 0);
      }
      this.endPhase('flush');
      this.observeStretch(stretchStartedMs);
    } catch (error) {
      this.fail(error);
    }
    this.endDrain(handBack);
  }

  /** Installs `snapshot`, of `ready` (the drain waits for it), then goes on draining. */
  private async installThenDrain(
    ready: Ready,
    snapshot: SnapshotInfo,
    commitsOnly: boolean,
    startedWrite: boolean,
  ): Promise<void> {
    try {
      await this.handleSnapshotReady(ready, snapshot);
      if (this.snapshotIsDue()) this.startSnapshot();
    } catch (error) {
      this.fail(error);
      this.endDrain(false);
      return;
    }
    this.drainFrom(commitsOnly, startedWrite);
  }

  /** The drain is over: a drain that gave its turn back comes again, and whoever waited for it goes on. */
  private endDrain(handBack: boolean): void {
    this.processing = false;
    if (handBack) this.schedule();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Pipelined: sends, starts the write, applies and hands the Ready back at once, so the next
   * Ready (acknowledgements that arrived meanwhile, new proposals) need not wait for this
   * write's fdatasync; the store group-commits writes queued behind one in progress. What may
   * only leave once durable (votes, append acknowledgements) leaves when the write and every
   * earlier one are done, in Ready order: at once when the write was durable before the store
   * returned (an idle store on a quick disk writes and syncs on this thread), with no promise
   * to wait for. True when it started a log write.
   */
  private handleReady(ready: Ready): boolean {
    if (ready.softState !== undefined) this.noteLeader(ready.softState.leaderId);
    if (traceStage !== undefined) traceReady(traceStage, ready);
    this.sendAtOnce(ready);
    // The log write may be done before `stageWrite` returns (`RaftLogStore.appendNow`): a leader's
    // appends leave first, so the followers write beside it.
    if (ready.entries.length > 0) this.options.link.flush?.();
    this.endPhase('send');
    const staged = this.stageWrite(ready);
    const persisted = bothSettled(staged === DURABLE ? undefined : staged, this.writeSnapshotChunks(ready));
    this.endPhase('write');
    const writing = persisted !== undefined;
    if (writing) this.writesInFlight++;
    this.applyReady(ready);
    this.raft.acceptReady();
    this.endPhase('core');
    if (!writing && this.afterPersistSteps === 0) {
      // Nothing of this Ready left to write (its log write, if any, durable already) and every
      // earlier step done: no need to wait a turn.
      this.persisted(ready);
      return staged === DURABLE;
    }
    this.afterPersistSteps++;
    this.persistChain = Promise.all([this.persistChain, persisted])
      .then(() => {
        this.afterPersistSteps--;
        if (writing) this.writesInFlight--;
        if (this.failure !== undefined) return;
        this.persisted(ready);
        // The last write in flight is done: its acknowledgements leave now, not after the next
        // turn's I/O (the leader waits for them). With writes still in flight, the last to
        // finish sends them all together.
        if (this.afterPersistSteps === 0 && ready.messagesAfterPersist.length > 0)
          this.options.link.flush?.();
        // Only when the write left something to do (what it committed, entries that waited for
        // it): a follower's usually leaves nothing, and a drain that finds nothing costs a turn.
        if (this.raft.hasReady(this.readyOptions(false))) this.schedule();
      })
      .catch((error: unknown) => this.fail(error));
    this.updateReadiness();
    return writing;
  }

  /**
   * `ready`'s write and every earlier one are durable: what waited for them leaves, and the core
   * counts its entries as persisted.
   */
  private persisted(ready: Ready): void {
    const last = ready.entries.at(-1);
    if (last !== undefined) traceStage?.('persisted', last.index);
    this.send(ready.messagesAfterPersist);
    if (last !== undefined && !this.stopped) this.raft.persistedThrough(last.index, last.term);
    this.updateReadiness();
  }

  /**
   * A Ready that installs a snapshot runs alone: after every write in flight, to the end. The
   * state machine restores a step at a time; messages that arrive meanwhile are stepped into Raft
   * (heartbeats keep this follower from campaigning) and answered by the next Ready.
   */
  private async handleSnapshotReady(ready: Ready, snapshot: SnapshotInfo): Promise<void> {
    // Our own snapshot in progress is older than this one.
    this.cancelSnapshot();
    await this.persistChain;
    if (ready.softState !== undefined) this.noteLeader(ready.softState.leaderId);
    this.sendAtOnce(ready);
    this.options.link.flush?.();
    // The last chunks, then the received file becomes the saved snapshot.
    await this.writeSnapshotChunks(ready);
    const reception = this.reception;
    assert(
      reception?.index === snapshot.metadata.index && reception.complete,
      () => `snapshot ${snapshot.metadata.index} installed without its whole file`,
    );
    this.reception = undefined;
    await this.store.installReceivedSnapshot(reception);
    await this.store.resetToSnapshot(snapshot.metadata.index);
    this.storage.applySnapshot(snapshot);
    if (!(await this.restoreFromFile(snapshot))) return;
    this.appliedIndex = snapshot.metadata.index;
    this.snapshotIndex = this.appliedIndex;
    this.proposals.skippedThrough(this.appliedIndex);
    const persisted = this.stageWrite(ready);
    this.applyReady(ready);
    if (persisted !== DURABLE) await persisted;
    this.send(ready.messagesAfterPersist);
    this.raft.advance();
    this.updateReadiness();
  }

  /** Applies committed entries and settles the reads and proposals this Ready decides. */
  private applyReady(ready: Ready): void {
    // Committed entries are durable on a quorum already (the leader counts its own copy only
    // once persisted), so applying them need not wait for this Ready's own write.
    if (ready.committedEntries.length > 0) {
      const startedMs = this.startStep();
      for (const entry of ready.committedEntries) this.applyEntry(entry);
      this.observeStep('apply', startedMs);
      this.endPhase('apply');
    }
    for (const state of ready.readStates) {
      this.settleReadTimer(state.requestId);
      this.reads.confirmed(state.requestId, state.index, this.appliedIndex);
    }
    for (const requestId of ready.droppedReads) {
      this.settleReadTimer(requestId);
      this.reads.dropped(requestId);
    }
    this.reads.releaseThrough(this.appliedIndex);
    this.appliedWaiters.releaseThrough(this.appliedIndex);
    this.issueReads();
    this.endPhase('reads');
    if (this.leadershipLost) {
      // Proposals made here as leader are answered when their index is applied (same term:
      // committed; another term: overwritten). Should neither happen soon (no new leader
      // reaches this node), their outcome is unknown.
      this.leadershipLost = false;
      if (this.proposals.size > 0) {
        const term = this.raft.term;
        this.options.clock.setTimer(
          PROPOSALS_AFTER_STEP_DOWN_WAIT_ELECTION_TIMEOUTS * this.electionTimeoutMs,
          () => this.proposals.leadershipLost(term),
        );
      }
    }
  }

  /**
   * Restores the state machine from the saved snapshot file, a step per turn. A machine that
   * takes its snapshot in parts is fed the file `RESTORE_READ_BYTES` at a time as it asks for
   * them, so no copy of the whole snapshot is made; otherwise the file is read whole first.
   */
  private async restoreFromFile(snapshot: SnapshotInfo): Promise<boolean> {
    const { index } = snapshot.metadata;
    const machine = this.options.stateMachine;
    if (machine.startRestoreFrom === undefined) {
      const data = await this.store.readSnapshotData(index, 0, snapshot.byteLength);
      this.snapshotBytesHeld = data.byteLength;
      try {
        return await this.runSteps(restoreTask(machine, data), 'restore-step');
      } finally {
        this.snapshotBytesHeld = 0;
      }
    }
    const task = machine.startRestoreFrom(snapshot.byteLength);
    let offset = 0;
    const feed = async (): Promise<void> => {
      while (task.wantsBytes) {
        assert(offset < snapshot.byteLength, 'a restore asked for bytes past the end of its snapshot');
        const length = Math.min(RESTORE_READ_BYTES, snapshot.byteLength - offset);
        const part = await this.store.readSnapshotData(index, offset, length);
        offset += part.byteLength;
        task.push(part);
      }
    };
    return runInTurns(task, 'restore-step', this.options, () => this.stopped, feed);
  }

  /**
   * Writes the chunks of a snapshot being received to its file as they arrive (a chunk at offset
   * 0 starts a new file and gives up the one before), so no snapshot is assembled in memory.
   * Settles once they are written: the acknowledgements (`messagesAfterPersist`) wait for it.
   */
  private writeSnapshotChunks(ready: Ready): Promise<void> | undefined {
    let written: Promise<void> | undefined;
    for (const chunk of ready.snapshotWrites) {
      if (chunk.offset === 0) {
        void this.abandonReception();
        this.reception = this.store.receiveSnapshot(toStoredSnapshot(chunk.metadata, []), chunk.totalBytes);
      }
      const reception = this.reception;
      assert(
        reception?.index === chunk.metadata.index && reception.receivedBytes === chunk.offset,
        () => `snapshot chunk at ${chunk.offset} of ${chunk.metadata.index} does not continue the reception`,
      );
      written = reception.write(chunk.data);
    }
    // A whole snapshot the core does not install (its log covered it meanwhile) is not kept.
    const reception = this.reception;
    if (reception?.complete === true && ready.snapshot?.metadata.index !== reception.index)
      void this.abandonReception();
    return written;
  }

  /** Gives up the snapshot being received, if any (its temporary file is removed). */
  private async abandonReception(): Promise<void> {
    const reception = this.reception;
    this.reception = undefined;
    await reception?.abort().catch((error: unknown) => {
      this.logger.warn(
        { err: error, snapshotIndex: reception.index },
        'could not remove a received snapshot',
      );
    });
  }

  /** Mirrors the Ready's entries and hard state in memory and starts writing them. */
  private stageWrite(ready: Ready): StagedWrite {
    if (ready.hardState !== undefined) this.storage.setHardState(ready.hardState);
    this.storage.append(ready.entries);
    return this.persist(ready);
  }

  /**
   * Makes new entries and a new term or vote durable. A Ready that only moves the commit index
   * needs no sync: a lost commit index is learned again from the leader after a restart.
   */
  private persist(ready: Ready): StagedWrite {
    const hardState = ready.hardState;
    const voteChanged =
      hardState !== undefined && (hardState.term !== this.queuedTerm || hardState.vote !== this.queuedVote);
    if (ready.entries.length === 0 && !voteChanged) return undefined;
    if (hardState !== undefined) {
      this.queuedTerm = hardState.term;
      this.queuedVote = hardState.vote;
    }
    const startedMs = this.options.clock.nowMs();
    const writing = this.store.appendNow(
      ready.entries.map(toStoredEntry),
      hardState === undefined ? undefined : toStoredHardState(hardState),
    );
    if (writing === undefined) {
      this.options.onPersisted?.(this.options.clock.nowMs() - startedMs);
      return DURABLE;
    }
    return writing.then(() => this.options.onPersisted?.(this.options.clock.nowMs() - startedMs));
  }

  private applyEntry(entry: Entry): void {
    const result = this.options.stateMachine.apply(entry);
    this.appliedIndex = entry.index;
    traceStage?.('applied', entry.index);
    this.proposals.applied(entry.index, entry.term, result);
    if (entry.kind === 'config') this.noteMembership(this.raft.configAt(entry.index));
  }

  /**
   * A committed configuration that no longer holds this member (as a voter of its new half, or
   * a learner) removes it for good: a joint configuration is always left towards its new half.
   */
  private noteMembership(config: ClusterConfig): void {
    const member = holdsMember(config, this.id);
    if (member) this.wasMember = true;
    else if (this.wasMember) {
      // After the Ready being applied: the entries after this one in it are answered first.
      const defer = this.options.defer ?? setImmediate;
      defer(() => this.markRemoved());
    }
  }

  /**
   * Enough was applied since the last snapshot, none is being taken, and the log here reaches the
   * applied index: a follower may apply committed entries that are still waiting for its next
   * write (see `deferWrites`), and a snapshot needs its index in the log.
   */
  private snapshotIsDue(): boolean {
    return (
      this.snapshotting === undefined &&
      snapshotDue(
        this.appliedIndex,
        this.snapshotIndex,
        this.snapshotEveryEntries,
        this.options.snapshotPhase,
      ) &&
      this.appliedIndex <= this.storage.lastIndex()
    );
  }

  /** Starts a snapshot at the applied index; it runs in the background while Readys go on. */
  private startSnapshot(): void {
    const index = this.appliedIndex;
    const config = this.raft.configAt(index);
    const task = snapshotTask(this.options.stateMachine);
    this.snapshotting = task;
    this.snapshotRun = this.takeSnapshot(task, index, config).catch((error: unknown) => this.fail(error));
  }

  /** Encodes a step per turn, then records, saves and compacts, unless cancelled on the way. */
  private async takeSnapshot(
    task: SteppedTask<readonly Uint8Array[]>,
    index: number,
    config: ReturnType<Raft['configAt']>,
  ): Promise<void> {
    if (!(await this.runSteps(task, 'snapshot-step')) || this.snapshotting !== task) return;
    const parts = task.result();
    let byteLength = 0;
    for (const part of parts) byteLength += part.byteLength;
    this.snapshotIndex = index;
    // Saved before storage records it: the core may ask for its chunks as soon as it knows it,
    // and they are read from the file. The encoded parts are dropped once saved.
    this.snapshotBytesHeld = byteLength;
    try {
      await this.store.saveSnapshot(
        toStoredSnapshot({ index, term: this.storage.term(index), config }, parts),
      );
    } finally {
      this.snapshotBytesHeld = 0;
    }
    if (this.snapshotting !== task) return;
    this.storage.createSnapshot(index, config, byteLength);
    const compactThrough =
      index - (this.options.logEntriesKeptAfterSnapshot ?? LOG_ENTRIES_KEPT_AFTER_SNAPSHOT);
    if (compactThrough > this.storage.firstIndex()) {
      this.storage.compact(compactThrough);
      await this.store.compact(compactThrough);
    }
    if (this.snapshotting === task) this.snapshotting = undefined;
  }

  /** Stops the background snapshot, if any (a newer one is being installed, or the node stops). */
  private cancelSnapshot(): void {
    this.snapshotting?.cancel();
    this.snapshotting = undefined;
  }

  /**
   * Runs a task a step per turn of the event loop, so timers and messages go on between steps.
   * False when the node stopped first (the task is then cancelled).
   */
  private runSteps<T>(task: SteppedTask<T>, source: StepSource): Promise<boolean> {
    return runInTurns(task, source, this.options, () => this.stopped);
  }

  private send(messages: readonly Message[]): void {
    const link = this.options.link;
    const inPlace = link.inPlace;
    for (const message of messages) {
      if (inPlace === undefined) link.send(message.to, encodeMessage(message));
      else inPlace.send(message.to, encodeMessage(message, inPlace.headroomBytes));
    }
  }

  /**
   * What of `ready` may leave before its write: its messages, and the chunks of the saved
   * snapshot the core asked for (read from the file, each sent once read).
   */
  private sendAtOnce(ready: Ready): void {
    this.send(ready.messages);
    for (const read of ready.snapshotReads) this.snapshotChunks.request(read);
  }

  /**
   * A chunk could not be read: that snapshot's file was removed (newer snapshots replaced it)
   * or the disk failed. The transfer starts over, from the newest snapshot.
   */
  private snapshotReadFailed(read: SnapshotChunkRead, error: unknown): void {
    if (this.stopped) return;
    this.logger.warn(
      { err: error, peer: read.to, snapshotIndex: read.metadata.index },
      'snapshot chunk read failed; the transfer starts over',
    );
    this.raft.reportSnapshot(read.to, 'failure');
    this.schedule();
  }

  private noteLeader(leaderId: NodeId | 0): void {
    const info = { leaderId, term: this.raft.term };
    if (info.leaderId === this.leader.leaderId && info.term === this.leader.term) return;
    if (this.leader.leaderId === this.id && leaderId !== this.id) this.leadershipLost = true;
    const previousLeader = this.leader.leaderId;
    this.leader = info;
    // A read forwarded to the previous leader may get no answer from it: ask the next one.
    const inFlight = this.reads.inFlightRequest();
    if (inFlight !== undefined && previousLeader !== this.id && previousLeader !== 0) {
      this.settleReadTimer(inFlight);
      // Issued again further down this Ready, once the new leader is known.
      this.reads.requeue(inFlight);
    }
    for (const listener of [...this.leaderListeners]) listener(info);
  }

  private updateReadiness(): void {
    const ready = this.leader.leaderId !== 0 && this.appliedIndex >= this.raft.committed;
    if (ready === this.isReadyFlag) return;
    this.isReadyFlag = ready;
    if (ready) for (const listener of [...this.readyListeners]) listener();
  }

  /** Called once this member is removed from the cluster (see `markRemoved`). */
  onRemoved(listener: () => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  /** Called once if the node stops after a storage or apply failure, with that failure. */
  onFailed(listener: (error: Error) => void): () => void {
    this.failedListeners.add(listener);
    return () => this.failedListeners.delete(listener);
  }

  get isRemoved(): boolean {
    return this.removed;
  }

  /**
   * This member was removed from the cluster (its own log says so, or the leader told it):
   * it stops ticking and refuses every request with `MEMBER_REMOVED`. `stop()` still closes
   * the store cleanly.
   */
  markRemoved(): void {
    if (this.removed || this.stopped) return;
    this.removed = true;
    const error = new MemberRemovedError(this.id);
    this.failure = error;
    this.logger.warn({ id: this.id }, 'this member was removed from the cluster; it stops serving');
    if (this.tickTimer !== undefined) this.options.clock.clearTimer(this.tickTimer);
    this.tickTimer = undefined;
    this.proposals.rejectAll(error);
    this.reads.rejectAll(error);
    this.appliedWaiters.rejectAll(error);
    for (const listener of [...this.removedListeners]) listener();
  }

  private fail(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    this.failure = failure;
    this.stopped = true;
    this.cancelSnapshot();
    this.logger.error({ err: failure }, 'the node stopped after a storage or apply failure');
    if (this.tickTimer !== undefined) this.options.clock.clearTimer(this.tickTimer);
    this.proposals.rejectAll(failure);
    this.reads.rejectAll(failure);
    this.appliedWaiters.rejectAll(failure);
    for (const timer of this.readTimers.values()) this.options.clock.clearTimer(timer);
    this.readTimers.clear();
    const listeners = [...this.failedListeners];
    this.failedListeners.clear(); // told once, even if a second failure follows
    for (const listener of listeners) listener(failure);
  }

  private async whenIdle(): Promise<void> {
    if (this.processing) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.persistChain;
  }

  /** Raises NOT_LEADER with the known leader, for callers that must run on the leader. */
  requireLeader(): void {
    if (!this.isLeader()) throw new NotLeaderError(this.leader.leaderId);
  }
}

/**
 * Runs a task a step per turn of the event loop (`defer`), so timers and messages go on between
 * steps, reporting each step's duration. False when `stopped` says so first (the task is then
 * cancelled).
 */
async function runInTurns<T, Result>(
  task: SteppedTask<T>,
  source: StepSource,
  options: RaftNodeOptions<Result>,
  stopped: () => boolean,
  /** Called before each step: gives the task the input it waits for (a fed restore). */
  beforeStep?: () => Promise<void>,
): Promise<boolean> {
  const defer = options.defer ?? setImmediate;
  for (;;) {
    if (beforeStep !== undefined) {
      await beforeStep();
      if (stopped()) {
        task.cancel();
        return false;
      }
    }
    options.onStepStart?.();
    const startedMs = options.clock.nowMs();
    const finished = task.step();
    options.onStep?.(source, options.clock.nowMs() - startedMs);
    if (finished) return true;
    await new Promise<void>((resolve) => defer(resolve));
    if (stopped()) {
      task.cancel();
      return false;
    }
  }
}

/** The two ways to ask the core for a Ready, made once (a drain asks for several per put). */
const DEFER_WRITES: ReadyOptions = { deferWrites: true };
const TAKE_WRITES: ReadyOptions = { deferWrites: false };

/** A Ready's log write that was durable before `stageWrite` returned (see `RaftLogStore.appendNow`). */
const DURABLE = 'durable';

/** What staging a Ready's write left: nothing to write, a write already durable, or the promise of one. */
type StagedWrite = Promise<void> | typeof DURABLE | undefined;

/** Settles once both writes (either may be absent) are done; undefined when neither is. */
function bothSettled(
  first: Promise<void> | undefined,
  second: Promise<void> | undefined,
): Promise<void> | undefined {
  if (first === undefined) return second;
  if (second === undefined) return first;
  return Promise.all([first, second]).then(() => undefined);
}

/** A received append carrying entries, or an append's acknowledgement (`MESHOS_STAGE_TRACE`). */
function traceReceived(trace: TraceStage, message: Message): void {
  if (message.type === 'append' && message.entries.length > 0)
    trace('append-received', message.entries.at(-1)?.index ?? 0);
  else if (message.type === 'appendResponse' && message.success) trace('ack-received', message.index);
}

/** A Ready's new entries (sent to followers by a leader) and its commits (`MESHOS_STAGE_TRACE`). */
function traceReady(trace: TraceStage, ready: Ready): void {
  const last = ready.entries.at(-1);
  if (last !== undefined) trace('ready-entries', last.index);
  const committed = ready.committedEntries.at(-1);
  if (committed !== undefined) trace('ready-commits', committed.index);
}

/** Whether `config` keeps `id` as a member: a voter of its (new) voter set, or a learner. */
function holdsMember(config: ClusterConfig, id: NodeId): boolean {
  return config.voters.includes(id) || config.learners.includes(id);
}
