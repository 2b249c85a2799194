import { assert, type NodeId } from '../lib/index.js';
import { MAX_INFLIGHT_BYTES_PER_FOLLOWER, MAX_INFLIGHT_MESSAGES_PER_FOLLOWER } from './replica-constants.js';

interface InflightAppend {
  readonly endOffset: number;
  readonly bytes: number;
}

/**
 * The leader's view of one follower's (or learner's) log in the leader's epoch.
 *
 * Invariants: `matchEnd <= nextOffset`; `matchEnd` never decreases within the epoch.
 * - probe: where the logs part is unknown; one append at a time, `nextOffset` moves back on
 *   each refusal until an append matches.
 * - pipeline: the follower matches up to `matchEnd`; appends stream ahead, bounded by
 *   `MAX_INFLIGHT_BYTES_PER_FOLLOWER` and `MAX_INFLIGHT_MESSAGES_PER_FOLLOWER`.
 */
export class FollowerProgress {
  matchEnd = 0;
  nextOffset: number;
  mode: 'probe' | 'pipeline' = 'probe';
  /** When the unanswered probe went out, or undefined when none is out. */
  probeSentAtMs: number | undefined = undefined;
  /**
   * When the newest request the follower answered in this epoch was sent (the epoch lease
   * counts from it: an answer held up in the network proves nothing about the time it arrives).
   */
  lastHeardMs: number;
  /** When an acknowledgement last moved `matchEnd` or the window (retransmission waits on it). */
  lastProgressMs: number;
  lastSentMs = Number.NEGATIVE_INFINITY;
  /** A read of the leader's log for this follower is under way. */
  reading = false;
  private readonly inflight: InflightAppend[] = [];
  private inflightBytesTotal = 0;

  constructor(
    readonly node: NodeId,
    readonly isLearner: boolean,
    nextOffset: number,
    nowMs: number,
    heardAtMs: number,
  ) {
    this.nextOffset = nextOffset;
    this.lastHeardMs = heardAtMs;
    this.lastProgressMs = nowMs;
  }

  get inflightBytes(): number {
    return this.inflightBytesTotal;
  }

  get hasInflight(): boolean {
    return this.inflight.length > 0 || this.probeSentAtMs !== undefined;
  }

  /** Whether another append of `bytes` may go out now. */
  canSend(): boolean {
    if (this.reading) return false;
    if (this.mode === 'probe') return this.probeSentAtMs === undefined;
    return (
      this.inflight.length < MAX_INFLIGHT_MESSAGES_PER_FOLLOWER &&
      this.inflightBytesTotal < MAX_INFLIGHT_BYTES_PER_FOLLOWER
    );
  }

  sent(endOffset: number, bytes: number, nowMs: number): void {
    this.lastSentMs = nowMs;
    if (this.mode === 'probe') {
      this.probeSentAtMs = nowMs;
      return;
    }
    assert(endOffset >= this.nextOffset, 'pipelined appends move forward');
    this.nextOffset = endOffset;
    if (bytes > 0) {
      this.inflight.push({ endOffset, bytes });
      this.inflightBytesTotal += bytes;
    }
  }

  /** The follower answered a request of ours sent at `sentAtMs`. */
  heardAt(sentAtMs: number): void {
    if (sentAtMs > this.lastHeardMs) this.lastHeardMs = sentAtMs;
  }

  /** The follower matches and holds durably every record below `matchEnd`. */
  acknowledged(matchEnd: number, nowMs: number): void {
    if (matchEnd > this.matchEnd) {
      this.matchEnd = matchEnd;
      this.lastProgressMs = nowMs;
    }
    while (this.inflight.length > 0 && (this.inflight[0] as InflightAppend).endOffset <= this.matchEnd) {
      this.inflightBytesTotal -= (this.inflight.shift() as InflightAppend).bytes;
    }
    if (this.mode === 'probe') {
      // The logs are known to match up to `matchEnd` (the answer may be to a heartbeat there,
      // not to the probe): stream on from it.
      this.mode = 'pipeline';
      this.probeSentAtMs = undefined;
      this.lastProgressMs = nowMs;
      this.nextOffset = this.matchEnd;
    }
    if (this.nextOffset < this.matchEnd) this.nextOffset = this.matchEnd;
  }

  /** Back to probing from `nextOffset` (never below what is known to match). */
  probeFrom(nextOffset: number, nowMs: number): void {
    this.mode = 'probe';
    this.probeSentAtMs = undefined;
    this.inflight.length = 0;
    this.inflightBytesTotal = 0;
    this.nextOffset = Math.max(nextOffset, this.matchEnd);
    this.lastProgressMs = nowMs;
  }
}
