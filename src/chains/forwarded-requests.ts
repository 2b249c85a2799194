/**
 * Requests this node forwards to another node's chain host (a chain's leader) and the answers
 * it waits for, each with its own deadline. What the caller learns when no answer comes is kept
 * honest: a request the transport refused was never sent (`sent: false`); one lost to a timeout
 * or a closed connection may have been served.
 *
 * A request to a peer whose connection closed and has not come back is refused at once, unsent,
 * when the link tells when connections come up: the transport would queue it for the peer's
 * return, and the caller would wait out its whole deadline for a dead leader instead of
 * looking for the new one (a chain's failover took over 1 s that way).
 */
import { type Clock, type NodeId, PeerRequestError, PendingPeerRequests } from '../lib/index.js';
import { ChainOverloadedError } from './errors.js';
import { encodeRequestFrame, type HostAnswer, type HostRequest } from './host-messages.js';

/** Forwarded requests in flight from this node at once; more are refused (not sent). */
export const MAX_FORWARDED_REQUESTS_IN_FLIGHT = 10_000;

/** The code of a forwarded request's `PeerRequestError` when no answer came. */
export const CHAIN_FORWARD_FAILED = 'CHAIN_FORWARD_FAILED';

export class ForwardedRequests {
  private readonly pending: PendingPeerRequests<HostAnswer>;
  /** Peers whose connection closed and has not come up again (only when the link tells). */
  private readonly down = new Set<NodeId>();

  /** `tellsConnections`: the link reports connections coming up (`peerConnected` is called). */
  constructor(
    send: (peer: NodeId, frame: Uint8Array) => boolean,
    clock: Clock,
    private readonly tellsConnections = false,
  ) {
    this.pending = new PendingPeerRequests({
      send,
      clock,
      maxInFlight: MAX_FORWARDED_REQUESTS_IN_FLIGHT,
      unanswered: (peer, sent, reason) =>
        new PeerRequestError(CHAIN_FORWARD_FAILED, undefined, peer, sent, reason),
    });
  }

  get inFlight(): number {
    return this.pending.inFlight;
  }

  /** Sends `request` to `peer`; resolves with its answer, or rejects after `timeoutMs`. */
  request(peer: NodeId, request: HostRequest, timeoutMs: number): Promise<HostAnswer> {
    if (this.down.has(peer))
      return Promise.reject(
        new PeerRequestError(
          CHAIN_FORWARD_FAILED,
          undefined,
          peer,
          false,
          'its connection is down (not sent)',
        ),
      );
    return this.pending.request(
      peer,
      (id) => encodeRequestFrame(id, request),
      timeoutMs,
      () => new ChainOverloadedError(request.chain, 'MAX_FORWARDED_REQUESTS_IN_FLIGHT'),
    );
  }

  /** The answer to request `id` arrived (late or unknown answers are dropped). */
  settle(from: NodeId, id: number, answer: HostAnswer): void {
    this.pending.resolve(from, id, answer);
  }

  /** The connection to `peer` closed: no answer will come to what is in flight there. */
  peerLost(peer: NodeId): void {
    this.pending.peerLost(peer);
    if (this.tellsConnections) this.down.add(peer);
  }

  /** The connection to `peer` is up: requests go to it again. */
  peerConnected(peer: NodeId): void {
    this.down.delete(peer);
  }

  /** Fails everything in flight (the host is closing). */
  close(): void {
    this.pending.failAll('this node stopped serving chains');
  }
}
