/**
 * Requests this node forwards to another node's chain host (a chain's leader) and the answers
 * it waits for, each with its own deadline. What the caller learns when no answer comes is kept
 * honest: a request the transport refused was never sent (`sent: false`); one lost to a timeout
 * or a closed connection may have been served.
 * A request to a peer whose connection was lost and is not up again is refused at once, unsent
 * (`PendingPeerRequests`, when the link tells): a survivor's append for its killed leader looks
 * for the new one rather than waiting out its deadline in the transport's queue.
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

  /** `connectionLost`: the link's (`ChainPeerLink.connectionLost`), when it can tell. */
  constructor(
    send: (peer: NodeId, frame: Uint8Array) => boolean,
    clock: Clock,
    connectionLost?: (peer: NodeId) => boolean,
  ) {
    this.pending = new PendingPeerRequests({
      send,
      clock,
      maxInFlight: MAX_FORWARDED_REQUESTS_IN_FLIGHT,
      unanswered: (peer, sent, reason) =>
        new PeerRequestError(CHAIN_FORWARD_FAILED, undefined, peer, sent, reason),
      ...(connectionLost === undefined ? {} : { connectionLost }),
    });
  }

  get inFlight(): number {
    return this.pending.inFlight;
  }

  /** Sends `request` to `peer`; resolves with its answer, or rejects after `timeoutMs`. */
  request(peer: NodeId, request: HostRequest, timeoutMs: number): Promise<HostAnswer> {
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
  }

  /** Fails everything in flight (the host is closing). */
  close(): void {
    this.pending.failAll('this node stopped serving chains');
  }
}
