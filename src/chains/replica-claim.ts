import type { NodeId } from '../lib/index.js';
import { majorityOf } from './replica-commit.js';
import { CLAIM_RETRY_INTERVAL_MS, CLAIM_TIMEOUT_MS } from './replica-constants.js';
import type { ReplicaContext } from './replica-context.js';
import {
  agreementGuess,
  historyTail,
  nextProbeOffset,
  prevEpochAt,
  reconcileEntries,
} from './replica-epochs.js';
import { joinAtLogStart } from './replica-log-start.js';
import type { ClaimAckMessage, FetchReplyMessage } from './replica-messages.js';

/** One replica's answer to the claim: its log as it stood when it promised. */
interface ClaimAnswer {
  readonly node: NodeId;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly lastEpoch: number;
  readonly historyTail: ClaimAckMessage['historyTail'];
  readonly answeredAtMs: number;
}

/**
 * A new leader's claim on its epoch (docs/CHAINS.md, Election step 4): promise the epoch
 * durably itself, collect promises from a majority of the replica set, adopt the most
 * up-to-date log among them (highest last epoch, then longest), fetching the records it lacks
 * and cutting off its own divergent suffix. `onAdopted` runs once the leader's log is that log.
 *
 * Phases: promising (own promise not yet durable) -> collecting -> fetching (when another
 * replica holds the best log) -> adopted.
 */
export class ClaimRound {
  phase: 'promising' | 'collecting' | 'fetching' | 'adopted' = 'promising';
  private readonly answers = new Map<NodeId, ClaimAnswer>();
  private readonly startedAtMs: number;
  private lastClaimSentMs = Number.NEGATIVE_INFINITY;
  private source: ClaimAnswer | undefined;
  private fetchOffset = 0;
  /** Where the source's log starts: records fetched from there join ours unchecked. */
  private sourceStartOffset = 0;
  private lastFetchSentMs = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly context: ReplicaContext,
    readonly epoch: number,
    private readonly replicas: readonly NodeId[],
    private readonly onAdopted: () => void,
  ) {
    this.startedAtMs = context.clock.nowMs();
  }

  /** When each replica last answered (the epoch lease starts from these). */
  answeredAtMs(node: NodeId): number | undefined {
    return this.answers.get(node)?.answeredAtMs;
  }

  start(): void {
    const { log } = this.context;
    if (log.promisedEpoch < this.epoch) log.setPromisedEpoch(this.epoch);
    // The promise is durable before any claim goes out: a restarted node that finds it knows it
    // may have led this epoch already, and never leads it again.
    this.context.whenDurable(() => {
      if (this.stopped) return;
      this.phase = 'collecting';
      this.answers.set(this.context.self, {
        node: this.context.self,
        startOffset: log.startOffset,
        endOffset: log.endOffset,
        lastEpoch: log.lastEpoch,
        historyTail: historyTail(log.epochHistory()),
        answeredAtMs: this.context.clock.nowMs(),
      });
      this.sendClaims();
      this.adoptWhenMajority();
    });
  }

  stop(): void {
    this.stopped = true;
  }

  tick(nowMs: number): void {
    if (this.phase === 'adopted') return;
    if (nowMs - this.startedAtMs >= CLAIM_TIMEOUT_MS) this.context.suspect(this.context.self, this.epoch);
    if (this.phase === 'collecting' && nowMs - this.lastClaimSentMs >= CLAIM_RETRY_INTERVAL_MS)
      this.sendClaims();
    if (this.phase === 'fetching' && nowMs - this.lastFetchSentMs >= CLAIM_RETRY_INTERVAL_MS)
      this.sendFetch();
  }

  onClaimAck(from: NodeId, message: ClaimAckMessage): void {
    if (!this.replicas.includes(from) || this.answers.has(from)) return;
    this.answers.set(from, {
      node: from,
      startOffset: message.startOffset,
      endOffset: message.endOffset,
      lastEpoch: message.lastEpoch,
      historyTail: message.historyTail,
      answeredAtMs: message.echoMs,
    });
    if (this.phase === 'collecting') this.adoptWhenMajority();
  }

  onFetchReply(from: NodeId, message: FetchReplyMessage): void {
    if (this.phase !== 'fetching' || from !== this.source?.node || message.fromOffset !== this.fetchOffset)
      return;
    const { log } = this.context;
    const { divergence } = message;
    if (divergence !== undefined) {
      if (divergence.resumeOffset > message.fromOffset) {
        // Retention moved the source's start past what we asked for: ask from its start.
        this.sourceStartOffset = divergence.resumeOffset;
        this.fetchOffset = divergence.resumeOffset;
      } else {
        this.fetchOffset = nextProbeOffset(log.epochHistory(), log.endOffset, message.fromOffset, divergence);
      }
      this.sendFetch();
      return;
    }
    if (message.fromOffset <= this.sourceStartOffset)
      joinAtLogStart(this.context, message.fromOffset, message.entries[0]);
    const truncatedAt = reconcileEntries(log, message.fromOffset, message.entries);
    if (truncatedAt !== undefined) this.context.truncated(truncatedAt);
    this.fetchOffset = message.fromOffset + message.entries.length;
    if (this.fetchOffset < this.source.endOffset) {
      if (message.entries.length > 0) this.sendFetch();
      return;
    }
    // Our log now agrees with the source's up to its end; anything past it is not in it.
    if (log.endOffset > this.source.endOffset) {
      log.truncateFrom(this.source.endOffset);
      this.context.truncated(this.source.endOffset);
    }
    this.adopted();
  }

  private sendClaims(): void {
    this.lastClaimSentMs = this.context.clock.nowMs();
    for (const node of this.replicas) {
      if (node === this.context.self || this.answers.has(node)) continue;
      this.context.send(node, {
        type: 'claim',
        chain: this.context.chain,
        epoch: this.epoch,
        sentAtMs: Math.floor(this.lastClaimSentMs),
      });
    }
  }

  private adoptWhenMajority(): void {
    if (this.answers.size < majorityOf(this.replicas.length)) return;
    const self = this.answers.get(this.context.self) as ClaimAnswer;
    let best = self;
    for (const answer of this.answers.values()) {
      if (
        answer.lastEpoch > best.lastEpoch ||
        (answer.lastEpoch === best.lastEpoch && answer.endOffset > best.endOffset)
      ) {
        best = answer;
      }
    }
    if (best === self || (best.lastEpoch === self.lastEpoch && best.endOffset === self.endOffset)) {
      this.adopted();
      return;
    }
    const { log } = this.context;
    this.source = best;
    this.sourceStartOffset = best.startOffset;
    this.fetchOffset = Math.max(
      agreementGuess(log.epochHistory(), log.endOffset, best.historyTail, best.endOffset),
      best.startOffset,
    );
    this.phase = 'fetching';
    this.sendFetch();
  }

  private sendFetch(): void {
    const source = this.source;
    if (source === undefined) return;
    this.lastFetchSentMs = this.context.clock.nowMs();
    this.context.send(source.node, {
      type: 'fetch',
      chain: this.context.chain,
      epoch: this.epoch,
      fromOffset: this.fetchOffset,
      prevEpoch: prevEpochAt(this.context.log.epochHistory(), this.fetchOffset),
    });
  }

  private adopted(): void {
    this.phase = 'adopted';
    this.onAdopted();
  }
}
