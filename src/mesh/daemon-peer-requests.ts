/**
 * Requests between nodes' daemons services over their own channel of the peer transport (sends
 * routed to the active's node, members' progress, a member's state). The caller learns honestly
 * what it can about a request that got no answer: `sent: false` when the transport refused it
 * (it never left: safe to retry), `sent: true` after a timeout or a lost connection (it may have
 * been served).
 */
import { type Clock, type Logger, MeshError, type NodeId, type TimerId } from '../lib/index.js';
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

interface Pending {
  readonly peer: NodeId;
  readonly timer: TimerId;
  readonly resolve: (answer: PeerMessage) => void;
  readonly reject: (error: Error) => void;
}

export type PeerRequestHandler = (from: NodeId, request: PeerMessage) => Promise<PeerMessage>;

export class DaemonPeerRequests {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private handler: PeerRequestHandler | undefined;
  private closed = false;

  constructor(
    private readonly link: PeerChannelLink,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {
    link.onMessage((from, bytes) => this.receive(from, bytes));
    link.onPeerLost((peer) => this.failPending((pending) => pending.peer === peer, 'the connection closed'));
  }

  /** Serves requests from other nodes (one handler; an error answers with its code). */
  serve(handler: PeerRequestHandler): void {
    this.handler = handler;
  }

  /** Sends a request; resolves with the answer, or rejects after `timeoutMs`. */
  request(peer: NodeId, message: PeerMessage, timeoutMs: number): Promise<PeerMessage> {
    if (this.closed) return Promise.reject(new DaemonPeerRequestError(peer, false, 'this node stopped'));
    if (this.pending.size >= MAX_DAEMON_PEER_REQUESTS_IN_FLIGHT)
      return Promise.reject(new DaemonPeerRequestError(peer, false, 'too many requests in flight'));
    const id = this.nextId++;
    return new Promise<PeerMessage>((resolve, reject) => {
      if (!this.link.send(peer, encodePeerFrame({ kind: 'request', id, ...message }))) {
        reject(new DaemonPeerRequestError(peer, false, 'the transport could not send it'));
        return;
      }
      const timer = this.clock.setTimer(Math.max(0, timeoutMs), () => {
        this.pending.delete(id);
        reject(new DaemonPeerRequestError(peer, true, `no answer within ${timeoutMs} ms`));
      });
      this.pending.set(id, { peer, timer, resolve, reject });
    });
  }

  close(): void {
    this.closed = true;
    this.failPending(() => true, 'this node stopped');
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
      const pending = this.pending.get(frame.id);
      if (pending === undefined || pending.peer !== from) return;
      this.pending.delete(frame.id);
      this.clock.clearTimer(pending.timer);
      const error = frame.header.error;
      if (error === undefined) pending.resolve(frame);
      else pending.reject(remoteError(error));
      return;
    }
    const handler = this.handler;
    const answered =
      handler === undefined || this.closed
        ? Promise.reject(
            new MeshError('DAEMON_UNAVAILABLE', 'the daemons service of this node is not running'),
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

  private failPending(matches: (pending: Pending) => boolean, reason: string): void {
    for (const [id, pending] of this.pending) {
      if (!matches(pending)) continue;
      this.pending.delete(id);
      this.clock.clearTimer(pending.timer);
      pending.reject(new DaemonPeerRequestError(pending.peer, true, reason));
    }
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
