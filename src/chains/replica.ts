import { assert, type Clock, type NodeId, type TimerId } from '../lib/index.js';
import { ChainNotLeaderError, ChainOffsetTruncatedError } from './errors.js';
import { LEADER_STALE_MS, MAX_CHAIN_MEMBERS, REPLICA_TICK_INTERVAL_MS } from './replica-constants.js';
import type { ReplicaContext } from './replica-context.js';
import { acceptAppend, answerClaim, serveFetch } from './replica-follower.js';
import { FollowerAcks } from './replica-follower-acks.js';
import { type AppendResult, ChainLeader } from './replica-leader.js';
import type { AppendMessage, ChainReplicaMessage, ClaimMessage, FetchMessage } from './replica-messages.js';
import type { ChainDefinition, ChainEntry, ChainLog } from './types.js';

export interface ChainReplicaOptions {
  readonly self: NodeId;
  readonly definition: ChainDefinition;
  readonly log: ChainLog;
  readonly clock: Clock;
  /** Hands a message to the peer transport (the host encodes it; it may be lost). */
  send(peer: NodeId, message: ChainReplicaMessage): void;
  /**
   * `leader` of `epoch` looks gone (its connection closed, or nothing came from it for
   * `LEADER_STALE_MS`), or this replica, named leader, cannot lead `epoch`. Called at most once
   * per epoch; the host then proposes the next epoch by compare-and-swap.
   */
  onLeaderSuspected?(leader: NodeId, epoch: number): void;
  /**
   * Schedules work for the end of the current turn (group commit: appends and messages that
   * arrive in one turn share a sync wait and one message per peer). Default `queueMicrotask`;
   * a node passes `setImmediate`, so everything its sockets delivered in one poll joins in.
   */
  atEndOfTurn?(action: () => void): void;
}

/** `claiming`: named leader, the claim on its epoch is not finished; `idle`: not in the chain. */
export type ChainReplicaRole = 'leader' | 'claiming' | 'follower' | 'learner' | 'idle';

export interface ChainReplicaMemberStatus {
  readonly node: NodeId;
  readonly learner: boolean;
  /** Records below this offset match the leader's log and are durable on the member. */
  readonly matchOffset: number;
  /** Records the member lacks behind the leader's log end. */
  readonly lag: number;
  /** Since the leader last heard from the member (0 for itself). */
  readonly lastHeardAgoMs: number;
}

export interface ChainReplicaStatus {
  readonly chain: string;
  readonly epoch: number;
  readonly role: ChainReplicaRole;
  /** The leader of `epoch` as this replica knows it, or 0. */
  readonly leader: NodeId | 0;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly commitOffset: number;
  readonly durableOffset: number;
  /**
   * On a leader that has claimed its epoch: where its epoch-start marker is. Every record
   * committed in an older epoch lies below it, while `commitOffset` may not have reached them yet
   * (they commit with the marker).
   */
  readonly epochStartOffset?: number;
  /** On a leader every replica and learner as it sees them; elsewhere only this replica. */
  readonly replicas: readonly ChainReplicaMemberStatus[];
}

export type CommitListener = (commitOffset: number) => void;

/**
 * One chain's replica on one node (docs/CHAINS.md, Replication). It follows the definition the
 * host feeds it: named leader of a new epoch it claims that epoch and then leads; otherwise it
 * follows whichever leader holds the highest epoch it has promised. Epoch checks happen once,
 * in `receive`, before a role's handler runs.
 */
export class ChainReplica {
  readonly chain: string;
  private readonly self: NodeId;
  private readonly log: ChainLog;
  private readonly clock: Clock;
  private readonly options: ChainReplicaOptions;
  private readonly context: ReplicaContext;
  private readonly followerAcks: FollowerAcks;
  private definition: ChainDefinition;
  /** The highest epoch known (from the definition or from a leader's request). */
  private epoch: number;
  private leaderId: NodeId | 0 = 0;
  private leader: ChainLeader | undefined;
  private commit = 0;
  private readonly listeners = new Set<CommitListener>();
  private suspectedEpoch = 0;
  private lastHeardFromLeaderMs: number;
  private timer: TimerId | undefined;
  private closed = false;
  private lastLogError: unknown;

  constructor(options: ChainReplicaOptions) {
    this.options = options;
    this.chain = options.definition.name;
    this.self = options.self;
    this.log = options.log;
    this.clock = options.clock;
    this.definition = options.definition;
    this.epoch = options.log.promisedEpoch;
    this.lastHeardFromLeaderMs = options.clock.nowMs();
    this.context = this.makeContext();
    this.followerAcks = new FollowerAcks(this.context);
    this.applyDefinition(options.definition);
    this.armTimer();
  }

  get role(): ChainReplicaRole {
    if (this.leader !== undefined) return this.leader.phase === 'leading' ? 'leader' : 'claiming';
    if (this.definition.replicas.includes(this.self)) return 'follower';
    if (this.definition.learners?.includes(this.self)) return 'learner';
    return 'idle';
  }

  /** The error the log failed with, if it did (the host then reopens the replica). */
  get logError(): unknown {
    return this.lastLogError;
  }

  get commitOffset(): number {
    return this.commit;
  }

  /** A newer definition from the control plane's watch (older ones are ignored). */
  updateDefinition(definition: ChainDefinition): void {
    if (this.closed) return;
    assert(
      definition.name === this.chain,
      () => `definition of ${definition.name} given to chain ${this.chain}`,
    );
    if (definition.epoch < this.definition.epoch) return;
    this.applyDefinition(definition);
  }

  /** A message from a peer (already decoded and routed to this chain). */
  receive(from: NodeId, message: ChainReplicaMessage): void {
    if (this.closed || message.chain !== this.chain || from === this.self) return;
    switch (message.type) {
      case 'claim':
      case 'append':
      case 'fetch':
        this.onRequest(from, message);
        return;
      case 'epochRefused':
        if (message.promisedEpoch > this.epoch) this.follow(message.promisedEpoch, 0);
        return;
      default:
        if (this.leader !== undefined && message.epoch === this.leader.epoch)
          this.leader.onMessage(from, message);
    }
  }

  /** The transport's connection to `peer` closed. */
  peerLost(peer: NodeId): void {
    if (this.closed) return;
    if (this.leader !== undefined) {
      this.leader.peerLost(peer);
    } else if (peer === this.leaderId) {
      this.suspect(peer, this.epoch);
    }
  }

  /**
   * Appends records; resolves once they are committed per the chain's acks policy. Fails with
   * `CHAIN_NOT_LEADER` (retryable) when this replica does not accept appends now, and with
   * `CHAIN_APPEND_OUTCOME_UNKNOWN` when it stopped leading before they were committed.
   */
  async append(payloads: readonly Uint8Array[]): Promise<AppendResult> {
    if (this.leader === undefined || this.closed) {
      throw new ChainNotLeaderError(this.chain, this.epoch, this.leaderId === 0 ? undefined : this.leaderId);
    }
    return this.leader.append(payloads);
  }

  /**
   * Committed records from `fromOffset`, at most `maxRecords` and about `maxBytes`; epoch-start
   * markers are skipped, so offsets may have gaps. Empty when nothing at or after `fromOffset`
   * is committed yet.
   */
  async read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ChainEntry[]> {
    if (fromOffset < this.log.startOffset)
      throw new ChainOffsetTruncatedError(this.chain, fromOffset, this.log.startOffset);
    const found: ChainEntry[] = [];
    let offset = fromOffset;
    // Loops only past runs of markers: each read returns at least one record.
    while (found.length === 0 && offset < this.commit) {
      // The log answers as it stood when asked; the commit offset may move on meanwhile, past
      // records a truncation then replaces (an append from a new leader), so only the commit
      // offset of that moment tells which of the records read are committed.
      const committed = this.commit;
      const entries = await this.log.read(offset, maxRecords, maxBytes);
      if (entries.length === 0) break;
      for (const entry of entries) {
        if (entry.offset >= committed) return found;
        if (entry.kind === 'data') found.push(entry);
      }
      offset = (entries[entries.length - 1] as ChainEntry).offset + 1;
    }
    return found;
  }

  /** Calls `listener` with the new commit offset each time it moves; returns the unsubscribe. */
  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): ChainReplicaStatus {
    const nowMs = this.clock.nowMs();
    const endOffset = this.log.endOffset;
    const replicas: ChainReplicaMemberStatus[] = [];
    const selfMatch = this.leader?.matchEndOfSelf ?? this.log.durableOffset;
    replicas.push({
      node: this.self,
      learner: !this.definition.replicas.includes(this.self),
      matchOffset: selfMatch,
      lag: endOffset - selfMatch,
      lastHeardAgoMs: 0,
    });
    for (const member of this.leader?.members() ?? []) {
      replicas.push({
        node: member.node,
        learner: member.isLearner,
        matchOffset: member.matchEnd,
        lag: endOffset - member.matchEnd,
        lastHeardAgoMs: Number.isFinite(member.lastHeardMs)
          ? nowMs - member.lastHeardMs
          : Number.POSITIVE_INFINITY,
      });
    }
    const epochStartOffset = this.leader?.epochStart;
    return {
      chain: this.chain,
      epoch: this.epoch,
      role: this.role,
      leader: this.leaderId,
      startOffset: this.log.startOffset,
      endOffset,
      commitOffset: this.commit,
      durableOffset: this.log.durableOffset,
      ...(epochStartOffset === undefined ? {} : { epochStartOffset }),
      replicas,
    };
  }

  /** Stops timers and leadership (waiting appends fail as outcome unknown); the log stays open. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.stopLeading('the replica was closed');
  }

  private makeContext(): ReplicaContext {
    const replica = this;
    return {
      self: this.self,
      chain: this.chain,
      log: this.log,
      clock: this.clock,
      send: (peer, message) => {
        if (!replica.closed) replica.options.send(peer, message);
      },
      get commitOffset() {
        return replica.commit;
      },
      advanceCommit: (offset) => replica.advanceCommit(offset),
      truncated: (offset) => {
        if (replica.commit > offset) replica.commit = offset;
      },
      suspect: (leader, epoch) => replica.suspect(leader, epoch),
      whenDurable: (then) => {
        this.log.durable().then(then, (error: unknown) => replica.logFailed(error));
      },
      logFailed: (error) => replica.logFailed(error),
      atEndOfTurn: this.options.atEndOfTurn ?? queueMicrotask,
    };
  }

  private applyDefinition(definition: ChainDefinition): void {
    this.definition = definition;
    const members = definition.replicas.length + (definition.learners?.length ?? 0);
    assert(
      members <= MAX_CHAIN_MEMBERS,
      () => `chain ${this.chain} has ${members} members (limit ${MAX_CHAIN_MEMBERS})`,
    );
    const isReplica = definition.replicas.includes(this.self);
    if (!isReplica && !definition.learners?.includes(this.self)) {
      this.stopLeading('this node left the chain');
      return;
    }
    const leader = definition.leader;
    const newer = definition.epoch > this.epoch || (definition.epoch === this.epoch && this.leaderId === 0);
    if (newer && definition.epoch > 0 && leader !== undefined) {
      if (leader !== this.self || !isReplica) {
        this.follow(definition.epoch, leader);
      } else if (this.log.promisedEpoch >= definition.epoch) {
        // This node promised the epoch before (it started claiming it, then restarted): its
        // records of that epoch may differ from what others hold, so it never leads it again.
        this.follow(definition.epoch, 0);
        this.suspect(this.self, definition.epoch);
      } else {
        this.lead(definition);
      }
      return;
    }
    if (this.leader !== undefined && definition.epoch === this.leader.epoch) {
      this.leader.setLearners(definition.learners ?? []);
    }
  }

  private lead(definition: ChainDefinition): void {
    this.stopLeading(`epoch ${definition.epoch} began`);
    this.epoch = definition.epoch;
    this.leaderId = this.self;
    this.leader = new ChainLeader(
      this.context,
      definition.epoch,
      definition.replicas,
      definition.learners ?? [],
      definition.acks,
      definition.maxRecordBytes,
    );
    try {
      this.leader.start();
    } catch (error) {
      this.logFailed(error);
    }
  }

  private follow(epoch: number, leader: NodeId | 0): void {
    this.stopLeading(`epoch ${epoch} began`);
    this.epoch = epoch;
    this.leaderId = leader;
    this.lastHeardFromLeaderMs = this.clock.nowMs();
  }

  private stopLeading(reason: string): void {
    const leader = this.leader;
    if (leader === undefined) return;
    this.leader = undefined;
    leader.stop(reason);
  }

  private onRequest(from: NodeId, message: ClaimMessage | AppendMessage | FetchMessage): void {
    const promised = this.log.promisedEpoch;
    if (message.epoch < promised || message.epoch < this.epoch) {
      this.options.send(from, {
        type: 'epochRefused',
        chain: this.chain,
        epoch: message.epoch,
        promisedEpoch: Math.max(promised, this.epoch),
      });
      return;
    }
    if (message.epoch > this.epoch || this.leaderId === 0) this.follow(message.epoch, from);
    // One leader per epoch: a request of our epoch from anyone else is not from its leader.
    if (from !== this.leaderId || this.leader !== undefined) return;
    this.lastHeardFromLeaderMs = this.clock.nowMs();
    try {
      if (message.epoch > promised) this.log.setPromisedEpoch(message.epoch);
      switch (message.type) {
        case 'claim':
          answerClaim(this.context, from, message);
          return;
        case 'append':
          acceptAppend(this.context, this.followerAcks, from, message);
          return;
        case 'fetch':
          serveFetch(this.context, from, message);
          return;
      }
    } catch (error) {
      this.logFailed(error);
    }
  }

  /**
   * The log refused a write or a sync (a failed fsync leaves it unusable until reopened): a
   * leader stops and asks for the next epoch; a follower goes on refusing nothing but
   * acknowledging nothing, so its leader counts it out.
   */
  private logFailed(error: unknown): void {
    this.lastLogError = error;
    if (this.leader === undefined) return;
    const epoch = this.leader.epoch;
    this.stopLeading(`its log failed: ${error instanceof Error ? error.message : String(error)}`);
    this.suspect(this.self, epoch);
  }

  private advanceCommit(offset: number): void {
    const bounded = Math.min(offset, this.log.endOffset);
    if (bounded <= this.commit) return;
    this.commit = bounded;
    for (const listener of this.listeners) listener(bounded);
  }

  private suspect(leader: NodeId, epoch: number): void {
    if (epoch <= this.suspectedEpoch) return;
    this.suspectedEpoch = epoch;
    this.options.onLeaderSuspected?.(leader, epoch);
  }

  private armTimer(): void {
    this.timer = this.clock.setTimer(REPLICA_TICK_INTERVAL_MS, () => {
      this.timer = undefined;
      if (this.closed) return;
      this.tick();
      this.armTimer();
    });
  }

  private tick(): void {
    const nowMs = this.clock.nowMs();
    if (this.leader !== undefined) {
      this.leader.tick(nowMs);
      return;
    }
    if (this.leaderId !== 0 && nowMs - this.lastHeardFromLeaderMs > LEADER_STALE_MS) {
      this.suspect(this.leaderId, this.epoch);
    }
  }
}
