import { type Clock, MeshError, type TimerId } from '../lib/index.js';
import type { NodeId } from '../raft/index.js';
import type { PeerLink } from './raft-node.js';

/** How long a request forwarded to the leader may take before the caller gives up. */
export const FORWARD_TIMEOUT_MS = 5_000;
/** Forwarded requests in flight from this node at once; more are refused. */
export const MAX_FORWARDS_IN_FLIGHT = 10_000;

const CHANNEL_RAFT = 0;
const CHANNEL_REQUEST = 1;
const CHANNEL_RESPONSE = 2;
/** Channel byte, then a 32-bit request id (0 on the Raft channel). */
const HEADER_BYTES = 5;
const RESPONSE_OK = 0;
const RESPONSE_ERROR = 1;

/** What a peer's transport offers: addressed, unordered, lossy datagrams. */
export interface PeerDatagrams {
  send(peer: NodeId, payload: Uint8Array): boolean;
  onMessage(handler: (from: NodeId, payload: Uint8Array) => void): void;
  onUnreachable(handler: (peer: NodeId) => void): void;
  /** An established connection to `peer` closed; transports that cannot tell omit it. */
  onPeerLost?(handler: (peer: NodeId) => void): void;
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
  readonly timer: TimerId;
}

/**
 * Splits one peer transport into Raft's channel and a request/response channel that
 * followers use to hand client requests to the leader. A request that gets no answer in
 * FORWARD_TIMEOUT_MS fails with TIMEOUT: its outcome is unknown to the caller. When the
 * connection to the peer is lost, its requests fail at once with UNAVAILABLE (outcome unknown
 * too) so callers retry elsewhere instead of waiting out the timeout.
 */
export class PeerChannels {
  private readonly pending = new Map<number, PendingForward>();
  private nextRequestId = 1;
  private raftHandler: (from: NodeId, payload: Uint8Array) => void = () => {};
  private requestHandler: (from: NodeId, body: Uint8Array) => Promise<Uint8Array> = async () => {
    throw new ForwardError('UNAVAILABLE', 'this node does not serve forwarded requests yet');
  };

  constructor(
    private readonly transport: PeerDatagrams,
    private readonly clock: Clock,
  ) {
    transport.onMessage((from, payload) => this.receive(from, payload));
    transport.onPeerLost?.((peer) => this.failForwardsTo(peer));
  }

  raftLink(): PeerLink {
    return {
      send: (peer, payload) => this.transport.send(peer, withHeader(CHANNEL_RAFT, 0, payload)),
      onMessage: (handler) => {
        this.raftHandler = handler;
      },
      onUnreachable: (handler) => this.transport.onUnreachable(handler),
      onPeerLost: (handler) => this.transport.onPeerLost?.(handler),
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
      const timer = this.clock.setTimer(FORWARD_TIMEOUT_MS, () => {
        this.pending.delete(requestId);
        reject(new ForwardError('TIMEOUT', `no answer from node ${peer} within ${FORWARD_TIMEOUT_MS} ms`));
      });
      this.pending.set(requestId, { peer, resolve, reject, timer });
      if (!this.transport.send(peer, withHeader(CHANNEL_REQUEST, requestId, body))) {
        this.clock.clearTimer(timer);
        this.pending.delete(requestId);
        reject(new ForwardError('UNAVAILABLE', `cannot reach node ${peer}`));
      }
    });
  }

  /** Fails every request in flight to `peer`: its connection closed, so no answer will come. */
  private failForwardsTo(peer: NodeId): void {
    for (const [requestId, pending] of this.pending) {
      if (pending.peer !== peer) continue;
      this.pending.delete(requestId);
      this.clock.clearTimer(pending.timer);
      pending.reject(new ForwardError('UNAVAILABLE', `lost the connection to node ${peer}`));
    }
  }

  private receive(from: NodeId, payload: Uint8Array): void {
    if (payload.byteLength < HEADER_BYTES) return;
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const channel = payload[0];
    const requestId = view.getUint32(1);
    const body = payload.subarray(HEADER_BYTES);
    if (channel === CHANNEL_RAFT) this.raftHandler(from, body);
    else if (channel === CHANNEL_REQUEST) this.serve(from, requestId, body);
    else if (channel === CHANNEL_RESPONSE) this.settle(requestId, body);
  }

  private serve(from: NodeId, requestId: number, body: Uint8Array): void {
    this.requestHandler(from, body).then(
      (answer) =>
        this.transport.send(from, withHeader(CHANNEL_RESPONSE, requestId, withStatus(RESPONSE_OK, answer))),
      (error: unknown) => {
        const code = error instanceof MeshError ? error.code : 'INTERNAL';
        const message = error instanceof Error ? error.message : String(error);
        const encoded = new TextEncoder().encode(
          JSON.stringify({ code, message, details: (error as MeshError).details ?? {} }),
        );
        this.transport.send(
          from,
          withHeader(CHANNEL_RESPONSE, requestId, withStatus(RESPONSE_ERROR, encoded)),
        );
      },
    );
  }

  private settle(requestId: number, body: Uint8Array): void {
    const pending = this.pending.get(requestId);
    if (pending === undefined || body.byteLength === 0) return;
    this.pending.delete(requestId);
    this.clock.clearTimer(pending.timer);
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

function withHeader(channel: number, requestId: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + HEADER_BYTES);
  out[0] = channel;
  new DataView(out.buffer).setUint32(1, requestId);
  out.set(body, HEADER_BYTES);
  return out;
}

function withStatus(status: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + 1);
  out[0] = status;
  out.set(body, 1);
  return out;
}
