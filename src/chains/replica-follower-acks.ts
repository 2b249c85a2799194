import type { NodeId } from '../lib/index.js';
import type { ReplicaContext } from './replica-context.js';

interface OwedAck {
  readonly leader: NodeId;
  readonly epoch: number;
  matchEnd: number;
  echoMs: number;
}

/**
 * A follower's acknowledgements, one per turn: the appends a leader's messages brought in one
 * turn share one wait for durability (one fdatasync with `batch` sync) and one `appendAck`
 * carrying the furthest match and the newest send time, which is all the leader keeps of
 * several. Only the current epoch's leader is owed anything: an ack for an epoch no longer
 * promised would be refused as stale, so a newer epoch replaces it.
 */
export class FollowerAcks {
  private owed: OwedAck | undefined;
  private scheduled = false;

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
    if (this.scheduled) return;
    this.scheduled = true;
    this.context.atEndOfTurn(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const owed = this.owed;
    this.owed = undefined;
    if (owed === undefined) return;
    const { context } = this;
    context.whenDurable((durableOffset) => {
      // A newer epoch promised meanwhile: the leader asking is fenced, an answer would count for it.
      if (context.log.promisedEpoch !== owed.epoch) return;
      context.send(owed.leader, {
        type: 'appendAck',
        chain: context.chain,
        epoch: owed.epoch,
        matchEnd: Math.min(owed.matchEnd, durableOffset),
        echoMs: owed.echoMs,
      });
    });
  }
}
