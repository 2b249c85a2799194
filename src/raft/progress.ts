import { assert } from '../lib/index.js';
import { Inflights } from './inflights.js';
import type { ProgressState, ProgressStatus, SnapshotInfo } from './types.js';

/**
 * The leader's view of one follower's log.
 *
 * Invariants: `match < next`; `match` never decreases while this leader leads.
 * - probe: the leader does not know where the logs diverge; it sends one append at a time
 *   (`probeSent` pauses it) and moves `next` back on each rejection.
 * - replicate: the follower is known to match up to `match`; appends are pipelined and `next`
 *   moves optimistically, limited by the inflight window.
 * - snapshot: the follower needs a snapshot; nothing else is sent until it acknowledges it.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  probeSent = false;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** The commit index carried by the latest append sent to this follower. */
  commitSent = 0;
  /** Largest `sentTick` of a heartbeat this follower acknowledged (for lease reads). */
  leaseAckTick = Number.NEGATIVE_INFINITY;
  /** In snapshot state: the snapshot being sent and how many of its bytes the follower holds. */
  pendingSnapshot: SnapshotInfo | undefined = undefined;
  snapshotOffset = 0;
  readonly inflights: Inflights;

  constructor(
    next: number,
    public isLearner: boolean,
    maxInflightMessages: number,
    maxInflightBytes: number,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMessages, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = undefined;
    this.snapshotOffset = 0;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot' && this.pendingSnapshot !== undefined) {
      const snapshotIndex = this.pendingSnapshot.metadata.index;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, snapshotIndex + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshot: SnapshotInfo): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshot;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  /** Records an append carrying entries up to `lastIndex` (`bytes` in total). */
  sentEntries(lastIndex: number, entryCount: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (entryCount > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else {
      this.probeSent = true;
    }
  }

  /** The follower matches through `index`; false when the acknowledgement is stale. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < index + 1) this.next = index + 1;
    return updated;
  }

  /**
   * The follower rejected an append at `rejectedIndex`; `retryIndex` is where the leader's log
   * and the follower's hint suggest retrying. False when the rejection is stale.
   */
  maybeDecreaseTo(rejectedIndex: number, retryIndex: number): boolean {
    if (this.state === 'replicate') {
      if (rejectedIndex <= this.match) return false;
      this.becomeProbe();
      this.next = Math.max(this.match + 1, Math.min(retryIndex, rejectedIndex));
      return true;
    }
    if (this.next - 1 !== rejectedIndex) return false;
    this.next = Math.max(this.match + 1, Math.min(retryIndex, rejectedIndex));
    this.probeSent = false;
    assert(this.next > this.match, 'next must stay above match');
    return true;
  }

  toStatus(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      isLearner: this.isLearner,
      recentActive: this.recentActive,
      inflightMessages: this.inflights.count,
    };
  }
}
