/**
 * Requests sent to other nodes that wait for their answers, each with its own deadline and a
 * bound on how many are in flight. What a caller learns when no answer comes is kept honest:
 * the `unanswered` error it gets says `sent: false` when the transport refused the request (it
 * never left), `sent: true` after a timeout, a lost connection or a close (it may have been
 * served). The owner encodes the frames and routes the answers here by request id.
 *
 * Request ids are unique across restarts, not just within one table: a peer may answer a
 * request after this node (or the part owning the table) restarted, and the answer then comes
 * to the new table. Were ids counted from 1 again, that late answer would settle the new
 * request that reused the id (seed 124 of the simulator: a chain append acknowledged with the
 * offsets of another chain's append). So a table counts from its start on the wall clock,
 * `REQUEST_IDS_PER_MS` ids per millisecond: a table started later begins above every id an
 * earlier one issued, unless that one averaged more ids per millisecond of the gap.
 */
import type { Clock, TimerId } from './clock.js';
import type { NodeId } from './node-id.js';

/** Ids a table may issue per millisecond since its start before it reaches a later table's first id. */
export const REQUEST_IDS_PER_MS = 1_024;

/** The first request id of a table started at `wallMs`; ids stay safe integers until the year 2248. */
export function firstRequestId(wallMs: number): number {
  return 1 + Math.max(0, Math.floor(wallMs)) * REQUEST_IDS_PER_MS;
}

export interface PendingPeerRequestsOptions {
  /** Hands a frame to the transport; false when it could not take it. */
  readonly send: (peer: NodeId, frame: Uint8Array) => boolean;
  readonly clock: Clock;
  /** Requests in flight at once; past it a request is refused unsent. */
  readonly maxInFlight: number;
  /** The error of a request that got no answer (`sent`: it may have reached the peer). */
  readonly unanswered: (peer: NodeId, sent: boolean, reason: string) => Error;
}

interface Pending<Answer> {
  readonly peer: NodeId;
  readonly timer: TimerId;
  readonly resolve: (answer: Answer) => void;
  readonly reject: (error: Error) => void;
}

export class PendingPeerRequests<Answer> {
  private readonly pending = new Map<number, Pending<Answer>>();
  private nextId: number;

  constructor(private readonly options: PendingPeerRequestsOptions) {
    this.nextId = firstRequestId(options.clock.wallMs());
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends the frame `encode` makes for a new request id; resolves with the answer, rejects with
   * `overloaded()` past the in-flight bound, or with `unanswered` when no answer comes in time.
   */
  request(
    peer: NodeId,
    encode: (id: number) => Uint8Array,
    timeoutMs: number,
    overloaded: () => Error,
  ): Promise<Answer> {
    const { clock, unanswered } = this.options;
    if (this.pending.size >= this.options.maxInFlight) return Promise.reject(overloaded());
    const id = this.nextId++;
    return new Promise<Answer>((resolve, reject) => {
      if (!this.options.send(peer, encode(id))) {
        reject(unanswered(peer, false, 'the transport could not send it'));
        return;
      }
      const timer = clock.setTimer(Math.max(0, timeoutMs), () => {
        this.pending.delete(id);
        reject(unanswered(peer, true, `no answer within ${timeoutMs} ms`));
      });
      this.pending.set(id, { peer, timer, resolve, reject });
    });
  }

  /** `from` answered request `id` (a late or unknown answer is dropped). */
  resolve(from: NodeId, id: number, answer: Answer): void {
    this.take(from, id)?.resolve(answer);
  }

  /** `from` answered request `id` with an error (a late or unknown answer is dropped). */
  reject(from: NodeId, id: number, error: Error): void {
    this.take(from, id)?.reject(error);
  }

  /** The connection to `peer` closed: no answer will come to what is in flight there. */
  peerLost(peer: NodeId): void {
    this.failWhere((pending) => pending.peer === peer, 'the connection closed');
  }

  /** Fails everything in flight with `reason` (the owner is closing). */
  failAll(reason: string): void {
    this.failWhere(() => true, reason);
  }

  private take(from: NodeId, id: number): Pending<Answer> | undefined {
    const pending = this.pending.get(id);
    if (pending === undefined || pending.peer !== from) return undefined;
    this.pending.delete(id);
    this.options.clock.clearTimer(pending.timer);
    return pending;
  }

  private failWhere(matches: (pending: Pending<Answer>) => boolean, reason: string): void {
    for (const [id, pending] of this.pending) {
      if (!matches(pending)) continue;
      this.pending.delete(id);
      this.options.clock.clearTimer(pending.timer);
      pending.reject(this.options.unanswered(pending.peer, true, reason));
    }
  }
}
