/**
 * Requests this node forwards to another node's chain host (a chain's leader) and the answers
 * it waits for, each with its own deadline. What the caller learns when no answer comes is kept
 * honest: a request the transport refused was never sent (`sent: false`); one lost to a timeout
 * or a closed connection may have been served.
 */
import { type Clock, MeshError, type NodeId, type TimerId } from '../lib/index.js';
import { ChainOverloadedError } from './errors.js';
import { encodeRequestFrame, type HostAnswer, type HostRequest } from './host-messages.js';

/** Forwarded requests in flight from this node at once; more are refused (not sent). */
export const MAX_FORWARDED_REQUESTS_IN_FLIGHT = 10_000;

/** A forwarded request got no answer; `sent` says whether it may have reached the peer. */
export class ChainForwardError extends MeshError {
  constructor(
    readonly peer: NodeId,
    readonly sent: boolean,
    reason: string,
  ) {
    super('CHAIN_FORWARD_FAILED', `request to node ${peer}: ${reason}`, { details: { peer, sent } });
  }
}

interface Pending {
  readonly peer: NodeId;
  readonly timer: TimerId;
  readonly resolve: (answer: HostAnswer) => void;
  readonly reject: (error: ChainForwardError) => void;
}

export class ForwardedRequests {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly send: (peer: NodeId, frame: Uint8Array) => boolean,
    private readonly clock: Clock,
  ) {}

  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends `request` to `peer`; resolves with its answer, or rejects after `timeoutMs`. */
  request(peer: NodeId, request: HostRequest, timeoutMs: number): Promise<HostAnswer> {
    if (this.pending.size >= MAX_FORWARDED_REQUESTS_IN_FLIGHT)
      return Promise.reject(new ChainOverloadedError(request.chain, 'MAX_FORWARDED_REQUESTS_IN_FLIGHT'));
    const id = this.nextId++;
    return new Promise<HostAnswer>((resolve, reject) => {
      if (!this.send(peer, encodeRequestFrame(id, request))) {
        reject(new ChainForwardError(peer, false, 'the transport could not send it'));
        return;
      }
      const timer = this.clock.setTimer(Math.max(0, timeoutMs), () => {
        this.pending.delete(id);
        reject(new ChainForwardError(peer, true, `no answer within ${timeoutMs} ms`));
      });
      this.pending.set(id, { peer, timer, resolve, reject });
    });
  }

  /** The answer to request `id` arrived (late or unknown answers are dropped). */
  settle(from: NodeId, id: number, answer: HostAnswer): void {
    const pending = this.pending.get(id);
    if (pending === undefined || pending.peer !== from) return;
    this.pending.delete(id);
    this.clock.clearTimer(pending.timer);
    pending.resolve(answer);
  }

  /** The connection to `peer` closed: no answer will come to what is in flight there. */
  peerLost(peer: NodeId): void {
    for (const [id, pending] of this.pending) {
      if (pending.peer !== peer) continue;
      this.fail(id, pending, 'the connection closed');
    }
  }

  /** Fails everything in flight (the host is closing). */
  close(): void {
    for (const [id, pending] of this.pending) this.fail(id, pending, 'this node stopped serving chains');
  }

  private fail(id: number, pending: Pending, reason: string): void {
    this.pending.delete(id);
    this.clock.clearTimer(pending.timer);
    pending.reject(new ChainForwardError(pending.peer, true, reason));
  }
}
