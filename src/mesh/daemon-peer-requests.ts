/**
 * Requests between nodes' daemons services over their own channel of the peer transport (sends
 * routed to the active's node, members' progress, a member's state). The caller learns honestly
 * what it can about a request that got no answer: `sent: false` when the transport refused it
 * (it never left: safe to retry), `sent: true` after a timeout or a lost connection (it may have
 * been served).
 */
import { DaemonUnavailableError } from '../daemons/cluster-errors.js';
import { type Clock, type Logger, MeshError, type NodeId, PendingPeerRequests } from '../lib/index.js';
import type { PeerChannelLink } from '../server/index.js';
import { decodePeerFrame, encodePeerFrame, type PeerFrame } from './daemon-peer-frames.js';

/** Requests in flight from this node at once; more are refused unsent. */
export const MAX_DAEMON_PEER_REQUESTS_IN_FLIGHT = 10_000;

/** A request's or an answer's body. */
export interface PeerMessage {
  readonly header: Readonly<Record<string, unknown>>;
  readonly blobs: readonly Uint8Array[];
}

/** A request got no answer; `sent` says whether it may have reached the peer. */
export class DaemonPeerRequestError extends MeshError {
  constructor(
    readonly peer: NodeId,
    readonly sent: boolean,
    reason: string,
  ) {
    super('DAEMON_PEER_REQUEST_FAILED', `daemons request to node ${peer}: ${reason}`, {
      details: { peer, sent },
    });
  }
}

export type PeerRequestHandler = (from: NodeId, request: PeerMessage) => Promise<PeerMessage>;

export class DaemonPeerRequests {
  private readonly pending: PendingPeerRequests<PeerMessage>;
  private handler: PeerRequestHandler | undefined;
  private closed = false;

  constructor(
    private readonly link: PeerChannelLink,
    clock: Clock,
    private readonly logger?: Logger,
  ) {
    this.pending = new PendingPeerRequests({
      send: (peer, frame) => link.send(peer, frame),
      clock,
      maxInFlight: MAX_DAEMON_PEER_REQUESTS_IN_FLIGHT,
      unanswered: (peer, sent, reason) => new DaemonPeerRequestError(peer, sent, reason),
    });
    link.onMessage((from, bytes) => this.receive(from, bytes));
    link.onPeerLost((peer) => this.pending.peerLost(peer));
  }

  /** Serves requests from other nodes (one handler; an error answers with its code). */
  serve(handler: PeerRequestHandler): void {
    this.handler = handler;
  }

  /** Sends a request; resolves with the answer, or rejects after `timeoutMs`. */
  request(peer: NodeId, message: PeerMessage, timeoutMs: number): Promise<PeerMessage> {
    if (this.closed) return Promise.reject(new DaemonPeerRequestError(peer, false, 'this node stopped'));
    return this.pending.request(
      peer,
      (id) => encodePeerFrame({ kind: 'request', id, ...message }),
      timeoutMs,
      () => new DaemonPeerRequestError(peer, false, 'too many requests in flight'),
    );
  }

  close(): void {
    this.closed = true;
    this.pending.failAll('this node stopped');
  }

  private receive(from: NodeId, bytes: Uint8Array): void {
    let frame: PeerFrame;
    try {
      frame = decodePeerFrame(bytes);
    } catch (error) {
      this.logger?.warn({ err: error, from }, 'daemons: dropped a malformed peer frame');
      return;
    }
    if (frame.kind === 'answer') {
      const error = frame.header.error;
      if (error === undefined) this.pending.resolve(from, frame.id, frame);
      else this.pending.reject(from, frame.id, remoteError(error));
      return;
    }
    const handler = this.handler;
    const answered =
      handler === undefined || this.closed
        ? Promise.reject(
            new DaemonUnavailableError(
              String(frame.header.name),
              'the daemons service of this node is not running',
            ),
          )
        : handler(from, frame);
    answered.then(
      (answer) => this.answer(from, frame.id, answer),
      (error: unknown) => {
        const typed = error instanceof MeshError ? error : undefined;
        if (typed === undefined) this.logger?.error({ err: error }, 'daemons: a peer request failed');
        this.answer(from, frame.id, {
          header: {
            error: {
              code: typed?.code ?? 'INTERNAL',
              message: typed?.message ?? String(error),
              ...(typed?.details === undefined ? {} : { details: typed.details }),
            },
          },
          blobs: [],
        });
      },
    );
  }

  private answer(to: NodeId, id: number, answer: PeerMessage): void {
    if (this.closed) return;
    this.link.send(to, encodePeerFrame({ kind: 'answer', id, ...answer }));
  }
}

/** The typed error a peer answered with, rebuilt with its code and details. */
function remoteError(error: unknown): MeshError {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const details = fields.details;
  return new MeshError(String(fields.code ?? 'INTERNAL'), String(fields.message ?? 'a peer failed'), {
    ...(typeof details === 'object' && details !== null
      ? { details: details as Record<string, unknown> }
      : {}),
  });
}
