import {
  type Clock,
  dataViewOf,
  firstRequestId,
  MeshError,
  type NodeId,
  PEER_CHANNEL,
  type PeerChannelId,
  scratchBytes,
  type TimerId,
} from '../lib/index.js';
import type { PeerLink } from './raft-node.js';

/** How long a request forwarded to the leader may take before the caller gives up. */
export const FORWARD_TIMEOUT_MS = 5_000;
/** Forwarded requests in flight from this node at once; more are refused. */
export const MAX_FORWARDS_IN_FLIGHT = 10_000;

const CHANNEL_RAFT = PEER_CHANNEL.raft;
const CHANNEL_REQUEST = PEER_CHANNEL.request;
const CHANNEL_RESPONSE = PEER_CHANNEL.response;
/** Channel byte, then a 64-bit request id, a safe integer (0 on the Raft channel). */
const HEADER_BYTES = 9;
const UINT32_SPAN = 2 ** 32;
/** The other channels carry only the channel byte before their message. */
const LINK_HEADER_BYTES = 1;
/** The channels `link` serves: every one but Raft's and request forwarding's. */
type LinkChannelId = Exclude<
  PeerChannelId,
  typeof CHANNEL_RAFT | typeof CHANNEL_REQUEST | typeof CHANNEL_RESPONSE
>;
const RESPONSE_OK = 0;
const RESPONSE_ERROR = 1;

/** What a peer's transport offers: addressed, unordered, lossy datagrams. */
export interface PeerDatagrams {
  send(peer: NodeId, payload: Uint8Array): boolean;
  onMessage(handler: (from: NodeId, payload: Uint8Array) => void): void;
  onUnreachable(handler: (peer: NodeId) => void): void;
  /** Writes queued messages now rather than at the end of the turn (optional). */
  flush?(): void;
  /** An established connection to `peer` closed; transports that cannot tell omit it. */
  onPeerLost?(handler: (peer: NodeId) => void): void;
}

/** One channel of the shared transport, as `PeerChannels.link` hands it out. */
export interface PeerChannelLink {
  /** False when the message was dropped (unknown peer, queue full). */
  send(peer: NodeId, payload: Uint8Array): boolean;
  /** The one handler of the channel's messages (a later call replaces it, as below). */
  onMessage(handler: (from: NodeId, payload: Uint8Array) => void): void;
  /** An established connection to `peer` closed. */
  onPeerLost(handler: (peer: NodeId) => void): void;
  /** Writes what is queued for every peer now rather than at the end of the turn (optional). */
  flush?(): void;
}

export class ForwardError extends MeshError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

interface PendingForward {
  readonly peer: NodeId;
  readonly resolve: (bytes: Uint8Array) => void;
  readonly reject: (error: unknown) => void;
  readonly deadlineMs: number;
}

/** How often requests in flight are checked against their deadline (one timer for all). */
const FORWARD_SWEEP_INTERVAL_MS = 100;

/**
 * Splits one peer transport into Raft's channel and a request/response channel that
 * followers use to hand client requests to the leader. A request that gets no answer in
 * FORWARD_TIMEOUT_MS fails with TIMEOUT: its outcome is unknown to the caller. When the
 * connection to the peer is lost, its requests fail at once with UNAVAILABLE (outcome unknown
 * too) so callers retry elsewhere instead of waiting out the timeout.
 */
export class PeerChannels {
  /** In sending order, which is deadline order too (every request gets the same timeout). */
  private readonly pending = new Map<number, PendingForward>();
  private sweepTimer: TimerId | undefined;
  /**
   * Counted from this node's start on the wall clock, not from 1: the leader may answer a
   * request sent before this node restarted, and that late answer must not settle a new request
   * that reused its id (see `firstRequestId`).
   */
  private nextRequestId: number;
  private raftHandler: (from: NodeId, payload: Uint8Array) => void = () => {};
  /** The handlers of the channels other parts own (`link`), by channel byte. */
  private readonly linkHandlers = new Map<number, (from: NodeId, payload: Uint8Array) => void>();
  /** One per channel, so a part that reopens its link replaces its handler rather than adding one. */
  private readonly linkLostHandlers = new Map<number, (peer: NodeId) => void>();
  private requestHandler: (from: NodeId, body: Uint8Array) => Promise<Uint8Array> = async () => {
    throw new ForwardError('LEADER_UNREACHABLE', 'this node does not serve forwarded requests yet');
  };

  constructor(
    private readonly transport: PeerDatagrams,
    private readonly clock: Clock,
  ) {
    this.nextRequestId = firstRequestId(clock.wallMs());
    transport.onMessage((from, payload) => this.receive(from, payload));
    transport.onPeerLost?.((peer) => {
      this.failForwardsTo(peer);
      for (const handler of this.linkLostHandlers.values()) handler(peer);
    });
  }

  raftLink(): PeerLink {
    return {
      send: (peer, payload) => this.transport.send(peer, framed(CHANNEL_RAFT, 0, undefined, payload)),
      onMessage: (handler) => {
        this.raftHandler = handler;
      },
      onUnreachable: (handler) => this.transport.onUnreachable(handler),
      onPeerLost: (handler) => this.transport.onPeerLost?.(handler),
      flush: () => this.transport.flush?.(),
    };
  }

  /**
   * Addressed, lossy datagrams on `channel`, for a part that speaks its own protocol over the
   * shared transport (proximity pings, chain replication). The handler gets the message without
   * the channel byte.
   */
  link(channel: LinkChannelId): PeerChannelLink {
    return {
      send: (peer, payload) => this.transport.send(peer, framedOnLink(channel, payload)),
      onMessage: (handler) => {
        this.linkHandlers.set(channel, handler);
      },
      onPeerLost: (handler) => {
        this.linkLostHandlers.set(channel, handler);
      },
      flush: () => this.transport.flush?.(),
    };
  }

  onRequest(handler: (from: NodeId, body: Uint8Array) => Promise<Uint8Array>): void {
    this.requestHandler = handler;
  }

  request(peer: NodeId, body: Uint8Array): Promise<Uint8Array> {
    if (this.pending.size >= MAX_FORWARDS_IN_FLIGHT) {
      return Promise.reject(
        new ForwardError('TOO_MANY_REQUESTS', `${MAX_FORWARDS_IN_FLIGHT} forwarded requests in flight`),
      );
    }
    const requestId = this.nextRequestId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      const deadlineMs = this.clock.nowMs() + FORWARD_TIMEOUT_MS;
      this.pending.set(requestId, { peer, resolve, reject, deadlineMs });
      if (!this.transport.send(peer, framed(CHANNEL_REQUEST, requestId, undefined, body))) {
        this.pending.delete(requestId);
        // Never sent, so never proposed: the caller may try again.
        reject(new ForwardError('LEADER_UNREACHABLE', `cannot reach node ${peer}`));
        return;
      }
      this.scheduleSweep();
    });
  }

  /** Stops the deadline timer; requests in flight are left to their callers' own deadlines. */
  close(): void {
    if (this.sweepTimer !== undefined) this.clock.clearTimer(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private scheduleSweep(): void {
    if (this.sweepTimer !== undefined || this.pending.size === 0) return;
    this.sweepTimer = this.clock.setTimer(FORWARD_SWEEP_INTERVAL_MS, () => {
      this.sweepTimer = undefined;
      this.expire();
      this.scheduleSweep();
    });
  }

  private expire(): void {
    const now = this.clock.nowMs();
    for (const [requestId, pending] of this.pending) {
      if (pending.deadlineMs > now) return;
      this.pending.delete(requestId);
      pending.reject(
        new ForwardError('TIMEOUT', `no answer from node ${pending.peer} within ${FORWARD_TIMEOUT_MS} ms`),
      );
    }
  }

  /** Fails every request in flight to `peer`: its connection closed, so no answer will come. */
  private failForwardsTo(peer: NodeId): void {
    for (const [requestId, pending] of this.pending) {
      if (pending.peer !== peer) continue;
      this.pending.delete(requestId);
      pending.reject(new ForwardError('UNAVAILABLE', `lost the connection to node ${peer}`));
    }
  }

  private receive(from: NodeId, payload: Uint8Array): void {
    if (payload.byteLength < LINK_HEADER_BYTES) return;
    const channel = payload[0] ?? 0;
    const linkHandler = this.linkHandlers.get(channel);
    if (linkHandler !== undefined) {
      linkHandler(from, payload.subarray(LINK_HEADER_BYTES));
      return;
    }
    if (payload.byteLength < HEADER_BYTES) return;
    const view = dataViewOf(payload);
    const requestId = view.getUint32(1) * UINT32_SPAN + view.getUint32(5);
    const body = payload.subarray(HEADER_BYTES);
    if (channel === CHANNEL_RAFT) this.raftHandler(from, body);
    else if (channel === CHANNEL_REQUEST) this.serve(from, requestId, body);
    else if (channel === CHANNEL_RESPONSE) this.settle(from, requestId, body);
  }

  private serve(from: NodeId, requestId: number, body: Uint8Array): void {
    this.requestHandler(from, body).then(
      (answer) => this.transport.send(from, framed(CHANNEL_RESPONSE, requestId, RESPONSE_OK, answer)),
      (error: unknown) => {
        const code = error instanceof MeshError ? error.code : 'INTERNAL';
        const message = error instanceof Error ? error.message : String(error);
        const encoded = new TextEncoder().encode(
          JSON.stringify({ code, message, details: (error as MeshError).details ?? {} }),
        );
        this.transport.send(from, framed(CHANNEL_RESPONSE, requestId, RESPONSE_ERROR, encoded));
      },
    );
  }

  private settle(from: NodeId, requestId: number, body: Uint8Array): void {
    const pending = this.pending.get(requestId);
    // Only the peer asked may answer.
    if (pending === undefined || pending.peer !== from || body.byteLength === 0) return;
    this.pending.delete(requestId);
    if (body[0] === RESPONSE_OK) {
      pending.resolve(body.subarray(1));
      return;
    }
    try {
      const parsed = JSON.parse(new TextDecoder().decode(body.subarray(1))) as {
        code: string;
        message: string;
        details: Record<string, unknown>;
      };
      pending.reject(new MeshError(parsed.code, parsed.message, { details: parsed.details }));
    } catch (error) {
      pending.reject(new ForwardError('INTERNAL', `undecodable error answer: ${String(error)}`));
    }
  }
}

/** The channel byte, then the message (copied once: the transport may keep it queued). */
function framedOnLink(channel: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + LINK_HEADER_BYTES);
  out[0] = channel;
  out.set(body, LINK_HEADER_BYTES);
  return out;
}

/** Channel byte, request id, an answer's status byte when given, then the body: one copy. */
function framed(
  channel: number,
  requestId: number,
  status: number | undefined,
  body: Uint8Array,
): Uint8Array {
  const headerBytes = HEADER_BYTES + (status === undefined ? 0 : 1);
  // Written to the peer link and dropped once framed, so pooled memory is fine.
  const out = scratchBytes(body.byteLength + headerBytes);
  out[0] = channel;
  const view = dataViewOf(out);
  view.setUint32(1, Math.floor(requestId / UINT32_SPAN));
  // ToUint32 keeps the low 32 bits of any safe integer.
  view.setUint32(5, requestId >>> 0);
  if (status !== undefined) out[HEADER_BYTES] = status;
  out.set(body, headerBytes);
  return out;
}
