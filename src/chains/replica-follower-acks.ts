import type { NodeId } from '../lib/index.js';
import type { ReplicaContext } from './replica-context.js';

interface OwedAck {
  readonly leader: NodeId;
  readonly epoch: number;
  matchEnd: number;
  echoMs: number;
}

/**
 * A follower's acknowledgements. The wait for durability starts as the leader's records are
 * taken (with `batch` sync the log's fdatasync starts in the microtasks right after, while the
 * node goes on with its turn), one wait at a time: records taken while one is in flight share
 * the next, which starts as soon as it is answered (and the log's next fdatasync with it). Each
 * answer is one `appendAck` carrying the furthest durable match and the newest send time, which
 * is all the leader keeps of several. Only the current epoch's leader is owed anything: an ack
 * for an epoch no longer promised would be refused as stale, so a newer epoch replaces it.
 */
export class FollowerAcks {
  private owed: OwedAck | undefined;
  private waiting = false;
  /** Records were taken while the wait in flight was pending (they may need the next sync). */
  private takenWhileWaiting = false;

  constructor(private readonly context: ReplicaContext) {}

  /** Records below `matchEnd` match `leader`'s log of `epoch`; say so once they are durable. */
  owe(leader: NodeId, epoch: number, matchEnd: number, echoMs: number): void {
    const owed = this.owed;
    if (owed !== undefined && owed.leader === leader && owed.epoch === epoch) {
      owed.matchEnd = Math.max(owed.matchEnd, matchEnd);
      owed.echoMs = Math.max(owed.echoMs, echoMs);
    } else {
      this.owed = { leader, epoch, matchEnd, echoMs };
    }
    if (this.waiting) this.takenWhileWaiting = true;
    else this.waitDurable();
  }

  private waitDurable(): void {
    this.waiting = true;
    this.takenWhileWaiting = false;
    const { context } = this;
    context.whenDurable((durableOffset) => {
      this.waiting = false;
      const owed = this.owed;
      if (owed === undefined) return;
      // A newer epoch promised meanwhile: the leader asking is fenced, an answer would count for it.
      if (context.log.promisedEpoch !== owed.epoch) {
        this.owed = undefined;
        return;
      }
      context.send(owed.leader, {
        type: 'appendAck',
        chain: context.chain,
        epoch: owed.epoch,
        matchEnd: Math.min(owed.matchEnd, durableOffset),
        echoMs: owed.echoMs,
      });
      // Records taken after this wait began and not covered by its sync are answered by the next.
      if (this.takenWhileWaiting && owed.matchEnd > durableOffset) this.waitDurable();
      else this.owed = undefined;
    });
  }
}
