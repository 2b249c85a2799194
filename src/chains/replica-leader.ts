import { type NodeId, ValidationError } from '../lib/index.js';
import { MAX_CHAIN_RECORD_BYTES } from './definition-limits.js';
import {
  ChainAppendOutcomeUnknownError,
  ChainNotLeaderError,
  ChainOverloadedError,
  ChainRecordTooLargeError,
} from './errors.js';
import { ClaimRound } from './replica-claim.js';
import { allowedCommitOffset, majorityOf } from './replica-commit.js';
import {
  APPEND_RETRANSMIT_AFTER_MS,
  EPOCH_LEASE_MS,
  HEARTBEAT_INTERVAL_MS,
  MAX_PENDING_APPEND_RECORDS,
  MAX_RECORDS_PER_APPEND,
} from './replica-constants.js';
import type { ReplicaContext } from './replica-context.js';
import { nextProbeOffset } from './replica-epochs.js';
import type { AppendAckMessage, AppendRefusedMessage, ChainReplicaMessage } from './replica-messages.js';
import { FollowerProgress } from './replica-progress.js';
import { RecordPusher } from './replica-push.js';
import type { AcksPolicy, ChainEntry } from './types.js';

/** Where an acknowledged append landed. */
export interface AppendResult {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly epoch: number;
}

interface PendingAppend {
  readonly firstOffset: number;
  readonly lastOffset: number;
  resolve(result: AppendResult): void;
  reject(error: Error): void;
}

/**
 * The leader of one epoch: claims it (`ClaimRound`), writes the epoch-start marker, then takes
 * appends, pushes them to followers and learners, advances the commit offset per the acks
 * policy and acknowledges appends once committed. Lives until the replica steps down.
 */
export class ChainLeader {
  private readonly claim: ClaimRound;
  private readonly progress = new Map<NodeId, FollowerProgress>();
  private readonly pusher: RecordPusher;
  private leading = false;
  private stopped = false;
  /** Offset of this epoch's epoch-start marker (commit waits until it is held per the policy). */
  private epochStartOffset = 0;
  private selfMatchEnd = 0;
  private readonly pending: PendingAppend[] = [];
  private pendingRecords = 0;
  private groupCommitScheduled = false;

  constructor(
    private readonly context: ReplicaContext,
    readonly epoch: number,
    private readonly replicas: readonly NodeId[],
    learners: readonly NodeId[],
    private readonly acks: AcksPolicy,
    private readonly maxRecordBytes = MAX_CHAIN_RECORD_BYTES,
  ) {
    this.claim = new ClaimRound(context, epoch, replicas, () => this.startLeading());
    this.pusher = new RecordPusher(context, epoch, () => this.stopped);
    this.learners = learners;
  }

  private learners: readonly NodeId[];

  get phase(): 'claiming' | 'leading' {
    return this.leading ? 'leading' : 'claiming';
  }

  start(): void {
    this.claim.start();
  }

  /** Stops leading; appends still waiting fail with an outcome-unknown error. */
  stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.claim.stop();
    const failed = this.pending.splice(0);
    this.pendingRecords = 0;
    for (const append of failed) {
      append.reject(
        new ChainAppendOutcomeUnknownError(
          this.context.chain,
          `offsets ${append.firstOffset}-${append.lastOffset} were written in epoch ${this.epoch}, then ${reason}`,
        ),
      );
    }
  }

  /** Whether a majority of the replica set (self included) was heard from within the lease. */
  holdsLease(nowMs: number): boolean {
    let heard = 1;
    for (const node of this.replicas) {
      if (node === this.context.self) continue;
      const at = this.leading ? this.progress.get(node)?.lastHeardMs : this.claim.answeredAtMs(node);
      if (at !== undefined && nowMs - at <= EPOCH_LEASE_MS) heard++;
    }
    return heard >= majorityOf(this.replicas.length);
  }

  append(payloads: readonly Uint8Array[]): Promise<AppendResult> {
    const { chain, log, clock } = this.context;
    if (payloads.length === 0 || payloads.length > MAX_RECORDS_PER_APPEND) {
      throw new ValidationError(`append to chain ${chain}`, [
        `needs 1 to ${MAX_RECORDS_PER_APPEND} records, got ${payloads.length}`,
      ]);
    }
    for (const payload of payloads) {
      if (payload.byteLength > this.maxRecordBytes) {
        throw new ChainRecordTooLargeError(chain, payload.byteLength, this.maxRecordBytes);
      }
    }
    // Still claiming: the leader is this node, but not yet (the append was not written).
    if (!this.leading) throw new ChainNotLeaderError(chain, this.epoch, this.context.self);
    // Checked on every append, not by a timer: a leader resumed after a pause must not accept
    // before it hears from a majority again, even if its timers have not run yet.
    if (!this.holdsLease(clock.nowMs())) throw new ChainNotLeaderError(chain, this.epoch);
    if (this.pendingRecords + payloads.length > MAX_PENDING_APPEND_RECORDS) {
      throw new ChainOverloadedError(
        chain,
        `MAX_PENDING_APPEND_RECORDS (${MAX_PENDING_APPEND_RECORDS}) await acknowledgement`,
      );
    }
    const firstOffset = log.endOffset;
    const appendedAtMs = Math.floor(clock.wallMs());
    const entries: ChainEntry[] = payloads.map((payload, index) => ({
      offset: firstOffset + index,
      epoch: this.epoch,
      kind: 'data',
      appendedAtMs,
      payload,
    }));
    this.writeRecords(entries);
    const lastOffset = firstOffset + entries.length - 1;
    this.pendingRecords += entries.length;
    const result = new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ firstOffset, lastOffset, resolve, reject });
    });
    this.scheduleGroupCommit();
    return result;
  }

  /**
   * Group commit: the appends of one turn are in the log already (its writer puts them in one
   * write); at the end of the turn they share one wait for durability (one fdatasync with
   * `batch` sync) and go to each follower in as few append messages as the message budgets
   * allow, instead of one of each per append. The transport writes the pushes after this
   * turn's work, or before the log's inline sync blocks the loop if that comes first, so the
   * followers write and sync their copies beside the leader rather than after it.
   */
  private scheduleGroupCommit(): void {
    if (this.groupCommitScheduled) return;
    this.groupCommitScheduled = true;
    this.context.atEndOfTurn(() => {
      this.groupCommitScheduled = false;
      if (this.stopped) return;
      this.countWhenDurable(this.context.log.endOffset);
      this.pushAll();
    });
  }

  tick(nowMs: number): void {
    if (!this.leading) {
      this.claim.tick(nowMs);
      return;
    }
    for (const progress of this.progress.values()) {
      if (progress.hasInflight && nowMs - progress.lastProgressMs >= APPEND_RETRANSMIT_AFTER_MS) {
        // Lost on the way (or its answer was): start over from what is known to match.
        progress.probeFrom(progress.matchEnd, nowMs);
      }
      this.pusher.push(progress, this.context.commitOffset);
      if (nowMs - progress.lastSentMs >= HEARTBEAT_INTERVAL_MS)
        this.pusher.heartbeat(progress, this.context.commitOffset);
    }
  }

  /** Answers to this epoch's claims, appends and fetches. */
  onMessage(from: NodeId, message: ChainReplicaMessage): void {
    switch (message.type) {
      case 'claimAck':
        this.claim.onClaimAck(from, message);
        this.progress.get(from)?.heardAt(message.echoMs);
        return;
      case 'fetchReply':
        this.claim.onFetchReply(from, message);
        return;
      case 'appendAck':
        this.onAppendAck(from, message);
        return;
      case 'appendRefused':
        this.onAppendRefused(from, message);
        return;
      default:
        return;
    }
  }

  /** Learners may change within an epoch (replicas change only with a new epoch). */
  setLearners(learners: readonly NodeId[]): void {
    this.learners = learners;
    if (!this.leading) return;
    for (const [node, progress] of this.progress) {
      if (progress.isLearner && !learners.includes(node)) this.progress.delete(node);
    }
    this.addProgress(learners, true);
    this.pushAll();
  }

  peerLost(peer: NodeId): void {
    // Whatever was in flight on the closed connection is gone.
    const progress = this.progress.get(peer);
    if (progress !== undefined) progress.probeFrom(progress.matchEnd, this.context.clock.nowMs());
  }

  members(): FollowerProgress[] {
    return [...this.progress.values()];
  }

  get matchEndOfSelf(): number {
    return this.selfMatchEnd;
  }

  /** Where this epoch's epoch-start marker is, once leading (every record of older epochs lies below it). */
  get epochStart(): number | undefined {
    return this.leading ? this.epochStartOffset : undefined;
  }

  private startLeading(): void {
    const { log, clock } = this.context;
    this.epochStartOffset = log.endOffset;
    this.selfMatchEnd = Math.min(this.selfMatchEnd, this.epochStartOffset);
    this.leading = true;
    this.pusher.resetRecent(this.epochStartOffset);
    this.write([
      {
        offset: this.epochStartOffset,
        epoch: this.epoch,
        kind: 'epoch-start',
        appendedAtMs: Math.floor(clock.wallMs()),
        payload: new Uint8Array(0),
      },
    ]);
    this.addProgress(this.replicas, false);
    this.addProgress(this.learners, true);
    this.pushAll();
  }

  private addProgress(nodes: readonly NodeId[], isLearner: boolean): void {
    const nowMs = this.context.clock.nowMs();
    for (const node of nodes) {
      if (node === this.context.self || this.progress.has(node)) continue;
      const heardAtMs = this.claim.answeredAtMs(node) ?? Number.NEGATIVE_INFINITY;
      this.progress.set(node, new FollowerProgress(node, isLearner, this.epochStartOffset, nowMs, heardAtMs));
    }
  }

  /** Writes our own records and counts them for us once they are durable. */
  private write(entries: readonly ChainEntry[]): void {
    this.writeRecords(entries);
    this.countWhenDurable(this.context.log.endOffset);
  }

  /** Hands records to the log (and keeps them for the push); not yet counted for us. */
  private writeRecords(entries: readonly ChainEntry[]): void {
    try {
      this.context.log.append(entries);
    } catch (error) {
      this.context.logFailed(error);
      throw error;
    }
    this.pusher.remember(entries);
  }

  /** Counts our records below `end` for us once the log says they are durable. */
  private countWhenDurable(end: number): void {
    this.context.whenDurable((durableOffset) => {
      if (this.stopped) return;
      this.selfMatchEnd = Math.max(this.selfMatchEnd, Math.min(end, durableOffset));
      this.advanceCommit();
    });
  }

  private pushAll(): void {
    for (const progress of this.progress.values()) this.pusher.push(progress, this.context.commitOffset);
  }

  private onAppendAck(from: NodeId, message: AppendAckMessage): void {
    const progress = this.progress.get(from);
    if (progress === undefined) return;
    progress.heardAt(message.echoMs);
    progress.acknowledged(Math.min(message.matchEnd, this.context.log.endOffset), this.context.clock.nowMs());
    if (!progress.isLearner) this.advanceCommit();
    this.pusher.push(progress, this.context.commitOffset);
  }

  private onAppendRefused(from: NodeId, message: AppendRefusedMessage): void {
    const progress = this.progress.get(from);
    if (progress === undefined) return;
    const nowMs = this.context.clock.nowMs();
    progress.heardAt(message.echoMs);
    // A refusal at or below what is known to match (durable on the follower) is a stale answer.
    if (message.fromOffset <= progress.matchEnd) return;
    const { log } = this.context;
    const next = nextProbeOffset(log.epochHistory(), log.endOffset, message.fromOffset, message);
    progress.probeFrom(next, nowMs);
    this.pusher.push(progress, this.context.commitOffset);
  }

  private advanceCommit(): void {
    if (!this.leading) return;
    const matchEnds = [this.selfMatchEnd];
    for (const node of this.replicas) {
      if (node === this.context.self) continue;
      matchEnds.push(this.progress.get(node)?.matchEnd ?? 0);
    }
    const allowed = allowedCommitOffset(this.acks, this.selfMatchEnd, matchEnds, this.epochStartOffset);
    if (allowed <= this.context.commitOffset) return;
    this.resolveCommitted(allowed);
    this.context.advanceCommit(allowed);
  }

  private resolveCommitted(commitOffset: number): void {
    while (this.pending.length > 0 && (this.pending[0] as PendingAppend).lastOffset < commitOffset) {
      const append = this.pending.shift() as PendingAppend;
      this.pendingRecords -= append.lastOffset - append.firstOffset + 1;
      append.resolve({ firstOffset: append.firstOffset, lastOffset: append.lastOffset, epoch: this.epoch });
    }
  }
}
