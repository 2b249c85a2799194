import { assert } from '../lib/index.js';
import {
  LEADER_RECENT_RECORDS_BYTES,
  MAX_MESSAGE_RECORD_BYTES,
  MAX_MESSAGE_RECORDS,
  RECORD_OVERHEAD_BYTES,
} from './replica-constants.js';
import type { ReplicaContext } from './replica-context.js';
import { prevEpochAt } from './replica-epochs.js';
import type { FollowerProgress } from './replica-progress.js';
import type { ChainEntry } from './types.js';

export function recordBytes(entry: ChainEntry): number {
  return entry.payload.byteLength + RECORD_OVERHEAD_BYTES;
}

/** The longest run of `entries` from the start within one message's budgets (at least one). */
function withinMessageBudget(entries: readonly ChainEntry[]): readonly ChainEntry[] {
  let bytes = 0;
  let count = 0;
  while (count < entries.length && count < MAX_MESSAGE_RECORDS) {
    bytes += recordBytes(entries[count] as ChainEntry);
    if (count > 0 && bytes > MAX_MESSAGE_RECORD_BYTES) break;
    count++;
  }
  return count === entries.length ? entries : entries.slice(0, count);
}

/**
 * Sends the leader's records to one follower at a time as its progress allows: from the
 * leader's newest records kept in memory (bounded by `LEADER_RECENT_RECORDS_BYTES`) when they
 * cover where the follower is, else read back from the log (catch-up), one message's budget at
 * a time.
 */
export class RecordPusher {
  /**
   * The kept records are `recent[recentHead..]`, the first at `recentStartOffset`. Dropping
   * clears a slot and moves the head; the array is cut only once the dropped part outgrows the
   * kept one, so each record is copied a bounded number of times (a cut per append, of a full
   * 8 MiB window, cost the leader more than the append itself once a busy chain's had filled).
   */
  private recent: (ChainEntry | undefined)[] = [];
  private recentHead = 0;
  private recentStartOffset = 0;
  private recentBytes = 0;

  constructor(
    private readonly context: ReplicaContext,
    private readonly epoch: number,
    private readonly isStopped: () => boolean,
  ) {}

  /** Forgets the kept records; the next ones remembered start at `offset`. */
  resetRecent(offset: number): void {
    this.recent = [];
    this.recentHead = 0;
    this.recentStartOffset = offset;
    this.recentBytes = 0;
  }

  remember(entries: readonly ChainEntry[]): void {
    for (const entry of entries) {
      assert(
        entry.offset === this.recentStartOffset + this.recent.length - this.recentHead,
        'kept records run on without gaps',
      );
      this.recent.push(entry);
      this.recentBytes += recordBytes(entry);
    }
    while (this.recentBytes > LEADER_RECENT_RECORDS_BYTES && this.recentHead < this.recent.length - 1) {
      this.recentBytes -= recordBytes(this.recent[this.recentHead] as ChainEntry);
      this.recent[this.recentHead] = undefined;
      this.recentHead++;
      this.recentStartOffset++;
    }
    if (this.recentHead > 0 && this.recentHead >= this.recent.length - this.recentHead) {
      this.recent = this.recent.slice(this.recentHead);
      this.recentHead = 0;
    }
  }

  /** Sends as much as the follower's window allows. */
  push(progress: FollowerProgress, commitOffset: number): void {
    const { log } = this.context;
    // Retention dropped what the follower needs next: it joins at our log's start.
    if (progress.nextOffset < log.startOffset)
      progress.probeFrom(log.startOffset, this.context.clock.nowMs());
    while (progress.canSend() && progress.nextOffset < log.endOffset) {
      const fromOffset = progress.nextOffset;
      if (fromOffset >= this.recentStartOffset) {
        const start = this.recentHead + fromOffset - this.recentStartOffset;
        this.sendAppend(
          progress,
          fromOffset,
          withinMessageBudget(this.recent.slice(start, start + MAX_MESSAGE_RECORDS) as ChainEntry[]),
          commitOffset,
        );
        continue;
      }
      this.readAndSend(progress, fromOffset);
      return;
    }
  }

  /** An empty append: carries the commit offset, renews the lease, reveals a lost message. */
  heartbeat(progress: FollowerProgress, commitOffset: number): void {
    const fromOffset = progress.hasInflight ? progress.matchEnd : progress.nextOffset;
    this.context.send(progress.node, this.appendMessage(fromOffset, [], commitOffset));
    progress.lastSentMs = this.context.clock.nowMs();
  }

  private readAndSend(progress: FollowerProgress, fromOffset: number): void {
    progress.reading = true;
    void this.context.log.read(fromOffset, MAX_MESSAGE_RECORDS, MAX_MESSAGE_RECORD_BYTES).then(
      (entries) => {
        progress.reading = false;
        if (this.isStopped()) return;
        const usable = entries.filter((entry) => entry.offset < this.context.log.endOffset);
        if (progress.nextOffset === fromOffset && progress.canSend() && usable[0]?.offset === fromOffset) {
          this.sendAppend(progress, fromOffset, withinMessageBudget(usable), this.context.commitOffset);
        }
        this.push(progress, this.context.commitOffset);
      },
      () => {
        // A failed read is retried on the next tick (the progress stays where it was).
        progress.reading = false;
      },
    );
  }

  private sendAppend(
    progress: FollowerProgress,
    fromOffset: number,
    entries: readonly ChainEntry[],
    commitOffset: number,
  ): void {
    let bytes = 0;
    for (const entry of entries) bytes += recordBytes(entry);
    this.context.send(progress.node, this.appendMessage(fromOffset, entries, commitOffset));
    progress.sent(fromOffset + entries.length, bytes, this.context.clock.nowMs());
  }

  private appendMessage(fromOffset: number, entries: readonly ChainEntry[], commitOffset: number) {
    return {
      type: 'append' as const,
      chain: this.context.chain,
      epoch: this.epoch,
      fromOffset,
      prevEpoch: prevEpochAt(this.context.log.epochHistory(), fromOffset),
      entries,
      commitOffset,
      sentAtMs: Math.floor(this.context.clock.nowMs()),
    };
  }
}
