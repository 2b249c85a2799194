/**
 * Requests between one service's instances on different nodes over that service's own channel
 * of the peer transport: the daemons' (sends routed to the active's node, members' progress, a
 * member's state) and the blobs' (chunks, copies, drops). Each owner names its channel and gives
 * its own error codes, so a failed blob copy reads as a blobs failure and a failed daemons request
 * as a daemons one. The caller learns honestly what it can about a request that got no answer: its
 * `PeerRequestError` says `sent: false` when the transport refused it (it never left: safe to
 * retry), `sent: true` after a timeout or a lost connection (it may have been served). The
 * requests in flight live in a `PendingPeerRequests` table, which also refuses at once, unsent,
 * a request to a peer whose connection was lost and is not up again.
 */
import {
  type Clock,
  type Logger,
  MeshError,
  type NodeId,
  PeerRequestError,
  PendingPeerRequests,
} from '../lib/index.js';
import type { PeerChannelLink } from '../server/index.js';
import { decodePeerFrame, encodePeerFrame, type PeerFrame } from './peer-request-frames.js';

/** How often a request held for a lost connection (`requestWhenConnected`) looks whether it is back. */
export const LOST_CONNECTION_POLL_MS = 50;

/** A request's or an answer's body. */
export interface PeerMessage {
  readonly header: Readonly<Record<string, unknown>>;
  readonly blobs: readonly Uint8Array[];
}

export type PeerRequestHandler = (from: NodeId, request: PeerMessage) => Promise<PeerMessage>;

export interface PeerRequestChannelOptions {
  readonly link: PeerChannelLink;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** The channel's name in logs and frame errors ('daemons', 'blobs'). */
  readonly name: string;
  /** Requests in flight from this node at once; more are refused unsent. */
  readonly maxInFlight: number;
  /** The code of the owner's `PeerRequestError` for a request that got no answer. */
  readonly unansweredCode: string;
  /** The owner's error answered to a request that arrives while nothing serves here. */
  readonly notServing: (request: PeerMessage) => MeshError;
}

export class PeerRequestChannel {
  private readonly pending: PendingPeerRequests<PeerMessage>;
  private handler: PeerRequestHandler | undefined;
  private closed = false;

  constructor(private readonly options: PeerRequestChannelOptions) {
    const { link, clock, maxInFlight } = options;
    this.pending = new PendingPeerRequests({
      send: (peer, frame) => link.send(peer, frame),
      clock,
      maxInFlight,
      unanswered: (peer, sent, reason) => this.unanswered(peer, sent, reason),
      ...(link.connectionLost === undefined
        ? {}
        : { connectionLost: (peer: NodeId) => link.connectionLost?.(peer) === true }),
    });
    link.onMessage((from, bytes) => this.receive(from, bytes));
    link.onPeerLost((peer) => this.pending.peerLost(peer));
  }

  get inFlight(): number {
    return this.pending.inFlight;
  }

  /** Serves requests from other nodes (one handler; an error answers with its code). */
  serve(handler: PeerRequestHandler): void {
    this.handler = handler;
  }

  /** Sends a request; resolves with the answer, or rejects after `timeoutMs`. */
  request(peer: NodeId, message: PeerMessage, timeoutMs: number): Promise<PeerMessage> {
    if (this.closed) return Promise.reject(this.unanswered(peer, false, 'this node stopped'));
    return this.pending.request(
      peer,
      (id) => encodePeerFrame({ kind: 'request', id, ...message }),
      timeoutMs,
      () => this.unanswered(peer, false, 'too many requests in flight'),
    );
  }

  /**
   * As `request`, for a question with nowhere else to go (a member's state, a move on the
   * active's node): while the connection to `peer` is lost, the request waits here, unsent, and
   * goes out with what is left of its deadline once the connection is up again, as it waited in
   * the transport's queue before the refusal; still down at its deadline, it fails unsent.
   */
  async requestWhenConnected(peer: NodeId, message: PeerMessage, timeoutMs: number): Promise<PeerMessage> {
    const { clock, link } = this.options;
    const deadlineMs = clock.nowMs() + timeoutMs;
    while (!this.closed && link.connectionLost?.(peer) === true) {
      const leftMs = deadlineMs - clock.nowMs();
      if (leftMs <= 0)
        throw this.unanswered(peer, false, `its connection stayed down for ${timeoutMs} ms (not sent)`);
      await new Promise<void>((resolve) => {
        clock.setTimer(Math.min(LOST_CONNECTION_POLL_MS, leftMs), resolve);
      });
    }
    return this.request(peer, message, Math.max(1, deadlineMs - clock.nowMs()));
  }

  close(): void {
    this.closed = true;
    this.pending.failAll('this node stopped');
  }

  private unanswered(peer: NodeId, sent: boolean, reason: string): PeerRequestError {
    const { unansweredCode, name } = this.options;
    return new PeerRequestError(unansweredCode, name, peer, sent, reason);
  }

  private receive(from: NodeId, bytes: Uint8Array): void {
    const { name, logger } = this.options;
    let frame: PeerFrame;
    try {
      frame = decodePeerFrame(bytes, name);
    } catch (error) {
      logger?.warn({ err: error, from }, `${name}: dropped a malformed peer frame`);
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
        ? Promise.reject(this.options.notServing(frame))
        : handler(from, frame);
    answered.then(
      (answer) => this.answer(from, frame.id, answer),
      (error: unknown) => {
        const typed = error instanceof MeshError ? error : undefined;
        if (typed === undefined) logger?.error({ err: error }, `${name}: a peer request failed`);
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
    this.options.link.send(to, encodePeerFrame({ kind: 'answer', id, ...answer }));
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
