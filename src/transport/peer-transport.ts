import { X509Certificate } from 'node:crypto';
import {
  type Address,
  type ByteStream,
  type Clock,
  formatAddress,
  isMeshError,
  isNodeId,
  type Listener,
  type Logger,
  type Network,
  type NodeId,
  type Random,
  ValidationError,
} from '../lib/index.js';
import { endOfTurn, silentLogger } from '../lib/node/index.js';
import { decodeBatch } from './batch.js';
import { encodeFrame, type Frame, FrameType } from './frame.js';
import { FrameDecoder } from './frame-decoder.js';
import { FrameError } from './frame-error.js';
import { decodeHandshake, encodeHandshake, MAX_HANDSHAKE_PAYLOAD_BYTES } from './handshake.js';
import {
  HANDSHAKE_TIMEOUT_MS,
  MAX_CLUSTER_ID_BYTES,
  MAX_FRAME_PAYLOAD_BYTES,
  MAX_INBOUND_CONNECTIONS,
  MAX_MESSAGE_BYTES,
  PEER_SEND_QUEUE_BYTES,
  PEER_SEND_QUEUE_MESSAGES,
  PROTOCOL_VERSION,
  RECONNECT_BACKOFF_MAX_MS,
  RECONNECT_BACKOFF_MIN_MS,
} from './limits.js';
import { OutboundLink } from './outbound-link.js';
import { checkPeer } from './peer-check.js';
import {
  encodeRefusal,
  REFUSAL_REASONS,
  REFUSED_BY_PEER_REASONS,
  type RefusalReason,
  type RefusedByPeerReason,
  zeroCounts,
} from './refusal.js';
import {
  DROP_REASONS,
  type DropReason,
  type TransportContext,
  type TransportCounters,
} from './transport-context.js';

/** The owner of the peers `setPeers` sets. */
export const DEFAULT_PEER_SET_OWNER = 'default';

/** How peers prove who they are. Plaintext only when asked for by name. */
export type TransportSecurity =
  | { readonly kind: 'insecure' }
  | { readonly kind: 'mutual-tls'; readonly caCertificatePem: string };

export interface PeerTransportOptions {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  readonly listenAddress: Address;
  readonly network: Network;
  readonly clock: Clock;
  readonly random: Random;
  readonly security: TransportSecurity;
  readonly logger?: Logger;
  readonly sendQueueMessages?: number;
  readonly sendQueueBytes?: number;
  readonly handshakeTimeoutMs?: number;
  readonly reconnectBackoffMinMs?: number;
  readonly reconnectBackoffMaxMs?: number;
  /**
   * Runs a link's write of its queue at the end of the turn: by default the process's
   * `endOfTurn`, after the turn's deferred work (docs/TRANSPORT.md).
   */
  readonly atEndOfTurn?: (write: () => void) => void;
}

export type MessageHandler = (from: NodeId, payload: Uint8Array) => void;

/** Every problem with the options at once. */
export function validatePeerTransportOptions(options: PeerTransportOptions): string[] {
  const problems: string[] = [];
  if (!isNodeId(options.nodeId))
    problems.push(`nodeId ${options.nodeId} must be a node id (a positive safe integer)`);
  const clusterIdBytes = new TextEncoder().encode(options.clusterId).length;
  if (clusterIdBytes === 0 || clusterIdBytes > MAX_CLUSTER_ID_BYTES) {
    problems.push(`clusterId must be 1..${MAX_CLUSTER_ID_BYTES} UTF-8 bytes, got ${clusterIdBytes}`);
  }
  const positive: Array<[string, number | undefined]> = [
    ['sendQueueMessages', options.sendQueueMessages],
    ['sendQueueBytes', options.sendQueueBytes],
    ['handshakeTimeoutMs', options.handshakeTimeoutMs],
    ['reconnectBackoffMinMs', options.reconnectBackoffMinMs],
    ['reconnectBackoffMaxMs', options.reconnectBackoffMaxMs],
  ];
  for (const [name, value] of positive) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      problems.push(`${name} must be a positive integer, got ${value}`);
    }
  }
  const minMs = options.reconnectBackoffMinMs ?? RECONNECT_BACKOFF_MIN_MS;
  const maxMs = options.reconnectBackoffMaxMs ?? RECONNECT_BACKOFF_MAX_MS;
  if (minMs > maxMs) problems.push(`reconnect backoff minimum ${minMs} ms exceeds maximum ${maxMs} ms`);
  if (options.security.kind === 'mutual-tls') {
    try {
      new X509Certificate(options.security.caCertificatePem);
    } catch {
      problems.push('security.caCertificatePem is not a PEM certificate');
    }
  }
  return problems;
}

/**
 * Links this node to its peers. Each node dials every peer it knows and sends over that
 * link; it receives over the links its peers dialed. Messages are opaque bytes; sends are
 * queued per peer (bounded, dropping and counting when full, which Raft tolerates) and
 * batched into frames.
 */
export class PeerTransport {
  readonly counters: TransportCounters = {
    refusedPeers: zeroCounts(REFUSAL_REASONS),
    refusedByPeers: zeroCounts(REFUSED_BY_PEER_REASONS),
    droppedMessages: zeroCounts(DROP_REASONS),
    discardedQueued: 0,
    badFrames: 0,
    sentMessages: 0,
    sentFrames: 0,
    sentBytes: 0,
    receivedMessages: 0,
    receivedFrames: 0,
    connectFailures: 0,
    linksEstablished: 0,
  };
  private readonly links = new Map<NodeId, OutboundLink>();
  /** Each owner's peers, in the order owners first set them. */
  private readonly peerSets = new Map<string, ReadonlyMap<NodeId, Address>>();
  private readonly inbound = new Set<ByteStream>();
  /** The established inbound connection of each peer: a newer one replaces an older one. */
  private readonly inboundByPeer = new Map<NodeId, ByteStream>();
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly unreachableHandlers: Array<(peerId: NodeId) => void> = [];
  private readonly connectedHandlers: Array<(peerId: NodeId) => void> = [];
  private readonly peerLostHandlers: Array<(peerId: NodeId) => void> = [];
  private readonly refusedHandlers: Array<
    (reason: RefusalReason | RefusedByPeerReason, remote: string) => void
  > = [];
  private readonly context: TransportContext;
  private readonly logger: Logger;
  private listener: Listener | undefined;
  private isRemovedMember: (peerId: NodeId) => boolean = () => false;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';

  constructor(private readonly options: PeerTransportOptions) {
    const problems = validatePeerTransportOptions(options);
    if (problems.length > 0) throw new ValidationError('peer transport options', problems);
    this.logger = (options.logger ?? silentLogger).child({ nodeId: options.nodeId });
    const authority =
      options.security.kind === 'mutual-tls'
        ? new X509Certificate(options.security.caCertificatePem)
        : undefined;
    const handshakeFrame = encodeFrame(
      encodeHandshake({
        protocolVersion: PROTOCOL_VERSION,
        clusterId: options.clusterId,
        nodeId: options.nodeId,
      }),
    );
    this.context = {
      nodeId: options.nodeId,
      clock: options.clock,
      random: options.random,
      network: options.network,
      logger: this.logger,
      counters: this.counters,
      handshakeFrame,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
      backoffMinMs: options.reconnectBackoffMinMs ?? RECONNECT_BACKOFF_MIN_MS,
      backoffMaxMs: options.reconnectBackoffMaxMs ?? RECONNECT_BACKOFF_MAX_MS,
      sendQueueMessages: options.sendQueueMessages ?? PEER_SEND_QUEUE_MESSAGES,
      sendQueueBytes: options.sendQueueBytes ?? PEER_SEND_QUEUE_BYTES,
      atEndOfTurn: options.atEndOfTurn ?? ((write) => endOfTurn.deferWrite(write)),
      expectations: (expectedNodeId) => ({
        clusterId: options.clusterId,
        authority,
        ...(expectedNodeId === undefined ? {} : { expectedNodeId }),
      }),
      deliver: (from, frame) => this.deliver(from, frame),
      refuse: (reason, remote, details) => this.refuse(reason, remote, details),
      refusedByPeer: (reason, peerId) => {
        this.counters.refusedByPeers[reason]++;
        this.logger.warn({ reason, peerId }, 'peer refused this node');
        for (const handler of this.refusedHandlers) handler(reason, `node ${peerId}`);
      },
      connected: (peerId) => {
        for (const handler of this.connectedHandlers) handler(peerId);
      },
      unreachable: (peerId) => {
        for (const handler of this.unreachableHandlers) handler(peerId);
      },
      peerLost: (peerId) => {
        if (this.state !== 'running') return;
        this.logger.debug({ peerId }, 'established connection to peer lost');
        for (const handler of this.peerLostHandlers) handler(peerId);
      },
    };
  }

  get nodeId(): NodeId {
    return this.options.nodeId;
  }

  /** The address actually listened on (port 0 resolved), once started. */
  get address(): Address | undefined {
    return this.listener?.address;
  }

  async start(): Promise<Address> {
    if (this.state !== 'new')
      throw new ValidationError('peer transport', [`start() called when ${this.state}`]);
    this.state = 'starting';
    const listener = await this.options.network.listen(this.options.listenAddress, (stream) =>
      this.accept(stream),
    );
    if (this.isStopped()) {
      await listener.close();
      return listener.address;
    }
    this.listener = listener;
    this.state = 'running';
    this.logger.info({ address: formatAddress(listener.address) }, 'peer transport listening');
    for (const link of this.links.values()) link.start();
    return listener.address;
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandlers.push(handler);
  }

  /** Called when a link to a peer failed or was lost; a Raft host reports the peer unreachable. */
  onUnreachable(handler: (peerId: NodeId) => void): void {
    this.unreachableHandlers.push(handler);
  }

  /**
   * Called when an established connection to or from a peer closed, outbound or inbound:
   * a hint that the peer process died (its OS closes its sockets at once). Not called for
   * connections that fail during the handshake, for replaced or planned closes, nor after
   * `stop()`. One loss may be reported once per connection, so up to twice.
   */
  onPeerLost(handler: (peerId: NodeId) => void): void {
    this.peerLostHandlers.push(handler);
  }

  /** Called when an outbound link completed its handshake. */
  onConnected(handler: (peerId: NodeId) => void): void {
    this.connectedHandlers.push(handler);
  }

  /** Called on every refusal, by this node or (seen through TLS alerts) by a peer. */
  onRefused(handler: (reason: RefusalReason | RefusedByPeerReason, remote: string) => void): void {
    this.refusedHandlers.push(handler);
  }

  /**
   * Tells which node ids the cluster removed for good. Such a node's handshake is answered with
   * a refusal frame naming the reason, so a member removed while it was down or cut off learns
   * of it the first time it reaches a peer, and stops.
   */
  refuseRemovedMembers(isRemoved: (peerId: NodeId) => boolean): void {
    this.isRemovedMember = isRemoved;
  }

  /** Replaces the peers of the one default owner (see `setPeerSet`). */
  setPeers(peers: ReadonlyMap<NodeId, Address>): void {
    this.setPeerSet(DEFAULT_PEER_SET_OWNER, peers);
  }

  /**
   * Replaces the peers `owner` needs (Raft its voters, membership the registered nodes). The
   * transport links to the union of every owner's peers: links no owner names any more close,
   * new peers are dialed. When owners name one peer at two addresses, the owner that first set
   * a peer set wins.
   */
  setPeerSet(owner: string, peers: ReadonlyMap<NodeId, Address>): void {
    if (this.state === 'stopped') return;
    this.peerSets.set(owner, new Map(peers));
    const wanted = new Map<NodeId, Address>();
    for (const set of this.peerSets.values()) {
      for (const [peerId, address] of set) if (!wanted.has(peerId)) wanted.set(peerId, address);
    }
    for (const [peerId, link] of this.links) {
      const address = wanted.get(peerId);
      if (address === undefined || formatAddress(address) !== formatAddress(link.address)) {
        this.counters.discardedQueued += link.close();
        this.links.delete(peerId);
      }
    }
    for (const [peerId, address] of wanted) {
      if (peerId === this.options.nodeId || this.links.has(peerId)) continue;
      const link = new OutboundLink(this.context, peerId, address);
      this.links.set(peerId, link);
      if (this.state === 'running') link.start();
    }
  }

  /** The peers the transport links to (every owner's), by id. */
  linkedPeers(): NodeId[] {
    return [...this.links.keys()];
  }

  /** Queues a message for a peer. False when it was dropped (and counted): unknown peer, too large, queue full. */
  send(peerId: NodeId, payload: Uint8Array): boolean {
    if (this.state === 'stopped') return this.drop('stopped');
    const link = this.links.get(peerId);
    if (link === undefined) return this.drop('unknown-peer');
    if (payload.length > MAX_MESSAGE_BYTES) return this.drop('too-large');
    const result = link.enqueue(payload);
    if (result === 'queued') return true;
    return this.drop(result === 'full-messages' ? 'queue-full-messages' : 'queue-full-bytes');
  }

  /**
   * Writes what is queued for every peer now instead of at the end of this event-loop turn,
   * for a caller about to block the loop (an inline fdatasync) that wants its messages to
   * travel meanwhile.
   */
  flush(): void {
    for (const link of this.links.values()) link.flush();
  }

  /** Messages queued for a peer and not yet written. */
  queuedMessages(peerId: NodeId): number {
    return this.links.get(peerId)?.queuedMessages() ?? 0;
  }

  isConnected(peerId: NodeId): boolean {
    return this.links.get(peerId)?.isConnected() ?? false;
  }

  /**
   * True while the link to `peerId` has lost its established connection and not completed a
   * new handshake: a message sent now waits in its queue until the peer is back. A request
   * that waits for an answer is better refused at once (`PendingPeerRequests`). An inbound
   * connection's loss alone does not count: sends leave over the outbound link.
   */
  connectionLost(peerId: NodeId): boolean {
    return this.links.get(peerId)?.connectionLost() ?? false;
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const link of this.links.values()) this.counters.discardedQueued += link.close();
    this.links.clear();
    for (const stream of this.inbound) stream.close();
    this.inbound.clear();
    this.inboundByPeer.clear();
    const listener = this.listener;
    this.listener = undefined;
    if (listener !== undefined) await listener.close();
    this.logger.info('peer transport stopped');
  }

  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  private drop(reason: DropReason): false {
    this.counters.droppedMessages[reason]++;
    return false;
  }

  /** Counts an inbound connection that the TLS layer rejected before any frame arrived. */
  recordTlsRefusal(error: Error, remote: string): void {
    const code = (error as { code?: unknown }).code;
    const reason: RefusalReason =
      code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE'
        ? 'no-certificate'
        : typeof code === 'string' && /CERT|VERIFY|ISSUER|UNKNOWN_CA/.test(code)
          ? 'wrong-ca'
          : 'bad-handshake';
    this.refuse(reason, remote, { tlsError: error.message, tlsCode: code });
  }

  private refuse(reason: RefusalReason, remote: string, details: Record<string, unknown> = {}): void {
    this.counters.refusedPeers[reason]++;
    this.logger.warn({ reason, remote, ...details }, 'refused peer');
    for (const handler of this.refusedHandlers) handler(reason, remote);
  }

  private deliver(from: NodeId, frame: Frame): void {
    this.counters.receivedFrames++;
    const messages = frame.type === FrameType.batch ? decodeBatch(frame.payload) : [frame.payload];
    this.counters.receivedMessages += messages.length;
    for (const message of messages) {
      for (const handler of this.messageHandlers) {
        try {
          handler(from, message);
        } catch (error) {
          this.logger.error({ err: error, from }, 'message handler threw');
        }
      }
    }
  }

  /** An inbound connection: the peer speaks first; we answer its handshake with ours, then receive. */
  private accept(stream: ByteStream): void {
    if (this.state !== 'running' || this.inbound.size >= MAX_INBOUND_CONNECTIONS) {
      if (this.state === 'running') this.refuse('too-many-connections', stream.remote);
      stream.close();
      return;
    }
    this.inbound.add(stream);
    const decoder = new FrameDecoder(MAX_HANDSHAKE_PAYLOAD_BYTES);
    let peerId: NodeId | undefined;
    let closed = false;
    /** A refusal frame was written; the handshake timer closes the stream if the dialer does not. */
    let refusing = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.context.clock.clearTimer(timer);
      this.inbound.delete(stream);
      // Only the peer's current connection counts as lost; one it replaced by redialing does not.
      const lostPeer = peerId !== undefined && this.inboundByPeer.get(peerId) === stream ? peerId : undefined;
      if (lostPeer !== undefined) this.inboundByPeer.delete(lostPeer);
      stream.close();
      if (lostPeer !== undefined) this.context.peerLost(lostPeer);
    };
    const timer = this.context.clock.setTimer(this.context.handshakeTimeoutMs, () => {
      if (peerId !== undefined || closed) return;
      if (!refusing) this.refuse('handshake-timeout', stream.remote);
      close();
    });
    const onFrame = (frame: Frame) => {
      if (refusing) return;
      if (peerId !== undefined) {
        if (frame.type === FrameType.handshake) throw new FrameError('bad-handshake', 'a second handshake');
        this.deliver(peerId, frame);
        return;
      }
      if (frame.type !== FrameType.handshake) {
        this.refuse('bad-handshake', stream.remote, { frameType: frame.type });
        close();
        return;
      }
      const handshake = decodeHandshake(frame.payload);
      const reason = checkPeer(handshake, stream, this.context.expectations());
      if (reason !== undefined) {
        this.refuse(reason, stream.remote, {
          claimedNodeId: handshake.nodeId,
          clusterId: handshake.clusterId,
        });
        close();
        return;
      }
      if (this.isRemovedMember(handshake.nodeId)) {
        this.refuse('removed-member', stream.remote, { claimedNodeId: handshake.nodeId });
        // The dialer closes on reading it; closing here at once could drop the frame unsent.
        refusing = true;
        stream.write(encodeRefusal('removed-member'));
        return;
      }
      peerId = handshake.nodeId;
      this.context.clock.clearTimer(timer);
      decoder.setMaxPayloadBytes(MAX_FRAME_PAYLOAD_BYTES);
      // A peer that redialed has given up on its older connection; close it rather than hold both.
      this.inboundByPeer.get(peerId)?.close();
      this.inboundByPeer.set(peerId, stream);
      stream.write(this.context.handshakeFrame);
      // The peer is up again (a restart): reach it now rather than when our backoff ends, so a
      // restarted node hears its leader within a heartbeat.
      this.links.get(peerId)?.redialNow();
      this.logger.debug({ peerId, remote: stream.remote }, 'accepted peer');
    };
    stream.onData((chunk) => {
      if (closed) return;
      try {
        for (const frame of decoder.push(chunk)) {
          onFrame(frame);
          if (closed) return;
        }
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        if (peerId === undefined) this.refuse('bad-handshake', stream.remote, { problem: error.problem });
        else {
          this.counters.badFrames++;
          this.logger.warn({ err: error, peerId }, 'closing connection after a bad frame');
        }
        close();
      }
    });
    stream.onClose(() => {
      if (!closed) {
        try {
          decoder.finish();
        } catch (error) {
          if (isMeshError(error, 'BAD_FRAME') && peerId !== undefined) this.counters.badFrames++;
        }
      }
      close();
    });
  }
}
