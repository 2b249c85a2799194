/**
 * Requests sent to other nodes that wait for their answers, each with its own deadline and a
 * bound on how many are in flight. What a caller learns when no answer comes is kept honest:
 * the `unanswered` error it gets says `sent: false` when the transport refused the request (it
 * never left), `sent: true` after a timeout, a lost connection or a close (it may have been
 * served). The owner encodes the frames and routes the answers here by request id.
 *
 * A request to a peer whose connection was lost and has not come up again is refused at once,
 * unsent, when the owner's link tells (`connectionLost`): the transport would hold it in its
 * queue until the peer is back, and its caller would wait out the whole deadline for a dead
 * node (a chain append for its killed leader, a follower's put for the killed Raft leader)
 * instead of trying elsewhere or waiting for the new leader. A request written before the loss
 * keeps its honest `sent: true` (`peerLost`). Links that cannot tell (the simulator's) leave
 * requests to the transport's queue as before.
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
import { MeshError } from './errors.js';
import type { NodeId } from './node-id.js';

/** Ids a table may issue per millisecond since its start before it reaches a later table's first id. */
export const REQUEST_IDS_PER_MS = 1_024;

/** The first request id of a table started at `wallMs`; ids stay safe integers until the year 2248. */
export function firstRequestId(wallMs: number): number {
  return 1 + Math.max(0, Math.floor(wallMs)) * REQUEST_IDS_PER_MS;
}

/**
 * Why a request got no answer: the transport refused it (`unsent`, it never left), its deadline
 * passed (`timeout`), the connection to its peer closed (`peer-lost`), or the owner failed
 * everything in flight (`closed`). Every cause but `unsent` may have reached the peer.
 */
export type UnansweredCause = 'unsent' | 'timeout' | 'peer-lost' | 'closed';

/**
 * A request to another node got no answer; `sent` says whether it may have reached the peer.
 * Its code is its owner's (`BLOB_PEER_REQUEST_FAILED`, `DAEMON_PEER_REQUEST_FAILED`,
 * `CHAIN_FORWARD_FAILED`); `channel`, when given, names the requests in the message.
 */
export class PeerRequestError extends MeshError {
  constructor(
    code: string,
    channel: string | undefined,
    readonly peer: NodeId,
    readonly sent: boolean,
    reason: string,
  ) {
    const request = channel === undefined ? 'request' : `${channel} request`;
    super(code, `${request} to node ${peer}: ${reason}`, { details: { peer, sent } });
  }
}

export interface PendingPeerRequestsOptions {
  /** Hands a frame to the transport; false when it could not take it. */
  readonly send: (peer: NodeId, frame: Uint8Array) => boolean;
  readonly clock: Clock;
  /** Requests in flight at once; past it a request is refused unsent. */
  readonly maxInFlight: number;
  /** The error of a request that got no answer (`sent`: it may have reached the peer). */
  readonly unanswered: (peer: NodeId, sent: boolean, reason: string, cause: UnansweredCause) => Error;
  /**
   * When given, one timer every `sweepIntervalMs` checks every request against its deadline
   * (a request fails up to that much after it), instead of a timer per request: for tables that
   * hold many requests at once.
   */
  readonly sweepIntervalMs?: number;
  /**
   * True while the connection to `peer` is lost and not up again (`PeerTransport.connectionLost`):
   * a request to it is then refused at once, unsent. Absent: every request goes to `send`.
   */
  readonly connectionLost?: (peer: NodeId) => boolean;
}

interface Pending<Answer> {
  readonly peer: NodeId;
  /** Its own deadline timer; undefined when the sweep checks it. */
  readonly timer: TimerId | undefined;
  readonly deadlineMs: number;
  readonly timeoutMs: number;
  readonly resolve: (answer: Answer) => void;
  readonly reject: (error: Error) => void;
}

export class PendingPeerRequests<Answer> {
  private readonly pending = new Map<number, Pending<Answer>>();
  private nextId: number;
  private sweepTimer: TimerId | undefined;

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
    const { clock, unanswered, sweepIntervalMs, connectionLost } = this.options;
    if (this.pending.size >= this.options.maxInFlight) return Promise.reject(overloaded());
    if (connectionLost?.(peer) === true)
      return Promise.reject(unanswered(peer, false, 'its connection is down (not sent)', 'unsent'));
    const id = this.nextId++;
    const waitMs = Math.max(0, timeoutMs);
    return new Promise<Answer>((resolve, reject) => {
      // Listed before it is sent, so an answer delivered during the send finds it.
      const timer =
        sweepIntervalMs === undefined
          ? clock.setTimer(waitMs, () => {
              this.pending.delete(id);
              reject(unanswered(peer, true, `no answer within ${timeoutMs} ms`, 'timeout'));
            })
          : undefined;
      this.pending.set(id, {
        peer,
        timer,
        deadlineMs: clock.nowMs() + waitMs,
        timeoutMs,
        resolve,
        reject,
      });
      if (!this.options.send(peer, encode(id))) {
        this.take(peer, id);
        reject(unanswered(peer, false, 'the transport could not send it', 'unsent'));
        return;
      }
      this.scheduleSweep();
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
    this.failWhere((pending) => pending.peer === peer, 'the connection closed', 'peer-lost');
  }

  /** Fails everything in flight with `reason` (the owner is closing). */
  failAll(reason: string): void {
    this.failWhere(() => true, reason, 'closed');
  }

  /**
   * Stops every deadline timer; what is in flight is left to its callers' own deadlines (a later
   * request starts the sweep again).
   */
  stopTimers(): void {
    const { clock } = this.options;
    if (this.sweepTimer !== undefined) clock.clearTimer(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const pending of this.pending.values())
      if (pending.timer !== undefined) clock.clearTimer(pending.timer);
  }

  private take(from: NodeId, id: number): Pending<Answer> | undefined {
    const pending = this.pending.get(id);
    if (pending === undefined || pending.peer !== from) return undefined;
    this.pending.delete(id);
    if (pending.timer !== undefined) this.options.clock.clearTimer(pending.timer);
    return pending;
  }

  private failWhere(
    matches: (pending: Pending<Answer>) => boolean,
    reason: string,
    cause: UnansweredCause,
  ): void {
    for (const [id, pending] of this.pending) {
      if (!matches(pending)) continue;
      this.pending.delete(id);
      if (pending.timer !== undefined) this.options.clock.clearTimer(pending.timer);
      pending.reject(this.options.unanswered(pending.peer, true, reason, cause));
    }
  }

  /** With a sweep interval: one timer while anything is in flight. */
  private scheduleSweep(): void {
    const { clock, sweepIntervalMs } = this.options;
    if (sweepIntervalMs === undefined) return;
    if (this.sweepTimer !== undefined || this.pending.size === 0) return;
    this.sweepTimer = clock.setTimer(sweepIntervalMs, () => {
      this.sweepTimer = undefined;
      this.expire();
      this.scheduleSweep();
    });
  }

  /** Fails every swept request whose deadline passed. */
  private expire(): void {
    const nowMs = this.options.clock.nowMs();
    for (const [id, pending] of this.pending) {
      if (pending.timer !== undefined || pending.deadlineMs > nowMs) continue;
      this.pending.delete(id);
      pending.reject(
        this.options.unanswered(pending.peer, true, `no answer within ${pending.timeoutMs} ms`, 'timeout'),
      );
    }
  }
}
