import {
  type Clock,
  dataViewOf,
  MeshError,
  type NodeId,
  PEER_CHANNEL,
  type PeerChannelId,
  PendingPeerRequests,
  scratchBytes,
  type UnansweredCause,
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
  /**
   * True while the connection this node sends to `peer` over is lost and not up again, so a
   * message would wait in a queue for the peer's return; transports that cannot tell omit it.
   */
  connectionLost?(peer: NodeId): boolean;
}

/** One channel of the shared transport, as `PeerChannels.link` hands it out. */
export interface PeerChannelLink {
  /** False when the message was dropped (unknown peer, queue full). */
  send(peer: NodeId, payload: Uint8Array): boolean;
  /** The one handler of the channel's messages (a later call replaces it, as below). */
  onMessage(handler: (from: NodeId, payload: Uint8Array) => void): void;
  /** An established connection to `peer` closed. */
  onPeerLost(handler: (peer: NodeId) => void): void;
  /**
   * True while the connection to `peer` is lost and not up again (`PeerDatagrams.connectionLost`):
   * a request over the link is then refused at once rather than queued. Links that cannot tell
   * omit it.
   */
  connectionLost?(peer: NodeId): boolean;
}

export class ForwardError extends MeshError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** How often requests in flight are checked against their deadline (one timer for all). */
const FORWARD_SWEEP_INTERVAL_MS = 100;

/**
 * Splits one peer transport into Raft's channel and a request/response channel that
 * followers use to hand client requests to the leader. A request that gets no answer in
 * FORWARD_TIMEOUT_MS fails with TIMEOUT: its outcome is unknown to the caller. When the
 * connection to the peer is lost, its requests fail at once with UNAVAILABLE (outcome unknown
 * too) so callers retry elsewhere instead of waiting out the timeout; until it is up again, a
 * new request to that peer is refused at once with LEADER_UNREACHABLE (never sent, so never
 * proposed: the caller waits for the next leader) rather than queued for the peer's return.
 */
export class PeerChannels {
  /**
   * Forwarded requests waiting for answers. Ids count from this node's start on the wall clock,
   * not from 1: the leader may answer a request sent before this node restarted, and that late
   * answer must not settle a new request that reused its id (see `firstRequestId`).
   */
  private readonly pending: PendingPeerRequests<Uint8Array>;
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
    clock: Clock,
  ) {
    this.pending = new PendingPeerRequests({
      send: (peer, frame) => transport.send(peer, frame),
      clock,
      maxInFlight: MAX_FORWARDS_IN_FLIGHT,
      unanswered: forwardFailure,
      sweepIntervalMs: FORWARD_SWEEP_INTERVAL_MS,
      connectionLost: (peer) => this.connectionLost(peer),
    });
    transport.onMessage((from, payload) => this.receive(from, payload));
    transport.onPeerLost?.((peer) => {
      this.pending.peerLost(peer);
      for (const handler of this.linkLostHandlers.values()) handler(peer);
    });
  }

  raftLink(): PeerLink {
    return {
      send: (peer, payload) => this.transport.send(peer, framed(CHANNEL_RAFT, 0, undefined, payload)),
      inPlace: {
        headroomBytes: HEADER_BYTES,
        send: (peer, bytes) => {
          // The Raft channel's request id is 0.
          bytes[0] = CHANNEL_RAFT;
          bytes.fill(0, 1, HEADER_BYTES);
          return this.transport.send(peer, bytes);
        },
      },
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
      connectionLost: (peer) => this.connectionLost(peer),
    };
  }

  onRequest(handler: (from: NodeId, body: Uint8Array) => Promise<Uint8Array>): void {
    this.requestHandler = handler;
  }

  request(peer: NodeId, body: Uint8Array): Promise<Uint8Array> {
    return this.pending.request(
      peer,
      (requestId) => framed(CHANNEL_REQUEST, requestId, undefined, body),
      FORWARD_TIMEOUT_MS,
      () => new ForwardError('TOO_MANY_REQUESTS', `${MAX_FORWARDS_IN_FLIGHT} forwarded requests in flight`),
    );
  }

  /** False when the transport cannot tell: requests then wait in its queue as before. */
  private connectionLost(peer: NodeId): boolean {
    return this.transport.connectionLost?.(peer) === true;
  }

  /** Stops the deadline timer; requests in flight are left to their callers' own deadlines. */
  close(): void {
    this.pending.stopTimers();
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
    // Only the peer asked may answer (the table drops any other).
    if (body.byteLength === 0) return;
    if (body[0] === RESPONSE_OK) {
      this.pending.resolve(from, requestId, body.subarray(1));
      return;
    }
    let error: MeshError;
    try {
      const parsed = JSON.parse(new TextDecoder().decode(body.subarray(1))) as {
        code: string;
        message: string;
        details: Record<string, unknown>;
      };
      error = new MeshError(parsed.code, parsed.message, { details: parsed.details });
    } catch (failure) {
      error = new ForwardError('INTERNAL', `undecodable error answer: ${String(failure)}`);
    }
    this.pending.reject(from, requestId, error);
  }
}

/**
 * A forwarded request that got no answer. Never sent: LEADER_UNREACHABLE (never proposed, the
 * caller may try again); otherwise its outcome is unknown: TIMEOUT, or UNAVAILABLE when the
 * connection closed (so callers retry elsewhere instead of waiting out the timeout).
 */
function forwardFailure(peer: NodeId, _sent: boolean, _reason: string, cause: UnansweredCause): ForwardError {
  switch (cause) {
    case 'unsent':
      return new ForwardError('LEADER_UNREACHABLE', `cannot reach node ${peer}`);
    case 'timeout':
      return new ForwardError('TIMEOUT', `no answer from node ${peer} within ${FORWARD_TIMEOUT_MS} ms`);
    case 'peer-lost':
    case 'closed':
      return new ForwardError('UNAVAILABLE', `lost the connection to node ${peer}`);
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
  writeHeader(out, channel, requestId);
  if (status !== undefined) out[HEADER_BYTES] = status;
  out.set(body, headerBytes);
  return out;
}

/** The channel byte and the request id, in the first `HEADER_BYTES` of `out`. */
function writeHeader(out: Uint8Array, channel: number, requestId: number): void {
  out[0] = channel;
  const view = dataViewOf(out);
  view.setUint32(1, Math.floor(requestId / UINT32_SPAN));
  // ToUint32 keeps the low 32 bits of any safe integer.
  view.setUint32(5, requestId >>> 0);
}
