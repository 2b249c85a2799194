import { type Address, type ByteStream, formatAddress, type NodeId, type TimerId } from '../lib/index.js';
import { traceStage } from '../lib/node/index.js';
import { reconnectDelayMs } from './backoff.js';
import { encodeMessagesFrame } from './batch.js';
import { type Frame, FrameType } from './frame.js';
import { FrameDecoder } from './frame-decoder.js';
import { FrameError } from './frame-error.js';
import { decodeHandshake, MAX_HANDSHAKE_PAYLOAD_BYTES } from './handshake.js';
import { MAX_FRAME_PAYLOAD_BYTES } from './limits.js';
import { checkPeer } from './peer-check.js';
import { decodeRefusal, isServerCertificateRejected, refusedByPeerReason } from './refusal.js';
import { type EnqueueResult, PeerSendQueue } from './send-queue.js';
import type { TransportContext } from './transport-context.js';

/**
 * idle -> connecting -> handshaking -> connected; any failure -> waiting (a jittered,
 * growing delay) -> connecting. `closed` is terminal.
 */
type LinkState = 'idle' | 'connecting' | 'handshaking' | 'connected' | 'waiting' | 'closed';

/** This node's sending side towards one peer: its queue, its connection, its reconnect loop. */
export class OutboundLink {
  private state: LinkState = 'idle';
  private readonly queue: PeerSendQueue;
  private stream: ByteStream | undefined;
  /** Bumped whenever a connection is abandoned, so late callbacks from it are ignored. */
  private generation = 0;
  private failedAttempts = 0;
  private timer: TimerId | undefined;
  private writeBlocked = false;
  private flushScheduled = false;
  private decoder: FrameDecoder | undefined;
  /** An established connection closed and no new one completed its handshake since. */
  private lost = false;

  constructor(
    private readonly context: TransportContext,
    readonly peerId: NodeId,
    readonly address: Address,
  ) {
    this.queue = new PeerSendQueue(context.sendQueueMessages, context.sendQueueBytes);
  }

  start(): void {
    if (this.state === 'idle') this.connect();
  }

  enqueue(payload: Uint8Array): EnqueueResult {
    const result = this.queue.enqueue(payload);
    if (result === 'queued') this.scheduleFlush();
    return result;
  }

  queuedMessages(): number {
    return this.queue.length;
  }

  isConnected(): boolean {
    return this.state === 'connected';
  }

  /**
   * True from the loss of an established connection until a new one completes its handshake:
   * what is sent meanwhile waits in the queue for the peer's return. False before the first
   * connection (a starting peer is expected, not lost).
   */
  connectionLost(): boolean {
    return this.lost;
  }

  /** Closes for good; returns how many queued messages were discarded. */
  close(): number {
    this.state = 'closed';
    this.abandonStream();
    if (this.timer !== undefined) this.context.clock.clearTimer(this.timer);
    this.timer = undefined;
    return this.queue.clear();
  }

  /** The peer proved alive (it dialed us): a link waiting out its backoff dials at once. */
  redialNow(): void {
    if (this.state !== 'waiting') return;
    if (this.timer !== undefined) this.context.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.failedAttempts = 0;
    this.connect();
  }

  private connect(): void {
    this.state = 'connecting';
    const generation = ++this.generation;
    this.context.network.connect(this.address).then(
      (stream) => {
        if (generation !== this.generation || this.state !== 'connecting') stream.close();
        else this.attach(stream, generation);
      },
      (error: unknown) => {
        if (generation !== this.generation || this.state !== 'connecting') return;
        if (isServerCertificateRejected(error)) {
          this.context.refuse('wrong-ca', formatAddress(this.address), { peerId: this.peerId });
        } else {
          const reason = refusedByPeerReason(error);
          if (reason !== undefined) this.context.refusedByPeer(reason, this.peerId);
        }
        this.context.logger.debug({ err: error, peerId: this.peerId }, 'connect failed');
        this.fail();
      },
    );
  }

  private attach(stream: ByteStream, generation: number): void {
    this.state = 'handshaking';
    this.stream = stream;
    this.writeBlocked = false;
    const decoder = new FrameDecoder(MAX_HANDSHAKE_PAYLOAD_BYTES);
    this.decoder = decoder;
    const remote = formatAddress(this.address);
    this.timer = this.context.clock.setTimer(this.context.handshakeTimeoutMs, () => {
      this.timer = undefined;
      if (generation !== this.generation || this.state !== 'handshaking') return;
      this.context.refuse('handshake-timeout', remote, { peerId: this.peerId });
      this.fail();
    });
    stream.onData((chunk) => {
      if (generation !== this.generation) return;
      try {
        for (const frame of decoder.push(chunk)) {
          this.onFrame(frame, stream, remote);
          if (generation !== this.generation) return;
        }
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        if (this.state === 'handshaking')
          this.context.refuse('bad-handshake', remote, { problem: error.problem });
        else this.context.counters.badFrames++;
        this.context.logger.warn({ err: error, peerId: this.peerId }, 'closing link after a bad frame');
        this.fail();
      }
    });
    stream.onDrain(() => {
      if (generation !== this.generation) return;
      this.writeBlocked = false;
      this.flush();
    });
    stream.onClose((error) => {
      if (generation !== this.generation) return;
      if (this.state === 'handshaking') {
        const reason = refusedByPeerReason(error) ?? 'closed-during-handshake';
        this.context.refusedByPeer(reason, this.peerId);
      }
      this.fail();
    });
    stream.write(this.context.handshakeFrame);
  }

  private onFrame(frame: Frame, stream: ByteStream, remote: string): void {
    if (this.state === 'connected') {
      if (frame.type === FrameType.handshake) throw new FrameError('bad-handshake', 'a second handshake');
      this.context.deliver(this.peerId, frame);
      return;
    }
    if (frame.type === FrameType.refusal) {
      const stated = decodeRefusal(frame.payload);
      if (stated !== undefined) this.context.refusedByPeer(stated, this.peerId);
      this.fail();
      return;
    }
    if (frame.type !== FrameType.handshake)
      throw new FrameError('bad-handshake', `frame type ${frame.type} first`);
    const handshake = decodeHandshake(frame.payload);
    const reason = checkPeer(handshake, stream, this.context.expectations(this.peerId));
    if (reason !== undefined) {
      this.context.refuse(reason, remote, {
        peerId: this.peerId,
        claimedNodeId: handshake.nodeId,
        clusterId: handshake.clusterId,
      });
      this.fail();
      return;
    }
    if (this.timer !== undefined) this.context.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.state = 'connected';
    this.lost = false;
    this.decoder?.setMaxPayloadBytes(MAX_FRAME_PAYLOAD_BYTES);
    this.failedAttempts = 0;
    this.context.counters.linksEstablished++;
    this.context.logger.debug({ peerId: this.peerId, remote }, 'link established');
    this.context.connected(this.peerId);
    this.flush();
  }

  /** The connection failed or was lost: report it, then redial after a backoff delay. */
  private fail(): void {
    if (this.state === 'closed' || this.state === 'waiting') return;
    const wasConnected = this.state === 'connected';
    if (wasConnected) this.lost = true;
    this.abandonStream();
    this.context.counters.connectFailures++;
    this.failedAttempts++;
    this.state = 'waiting';
    if (this.timer !== undefined) this.context.clock.clearTimer(this.timer);
    const delayMs = reconnectDelayMs(
      this.failedAttempts,
      this.context.random,
      this.context.backoffMinMs,
      this.context.backoffMaxMs,
    );
    this.timer = this.context.clock.setTimer(delayMs, () => {
      this.timer = undefined;
      if (this.state === 'waiting') this.connect();
    });
    this.context.unreachable(this.peerId);
    if (wasConnected) this.context.peerLost(this.peerId);
  }

  private abandonStream(): void {
    this.generation++;
    const stream = this.stream;
    this.stream = undefined;
    stream?.close();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.state !== 'connected') return;
    this.flushScheduled = true;
    // Everything sent in the same turn of the event loop (all its I/O callbacks and the work
    // deferred to its end, not just the current callback) goes out together, in as few frames
    // and socket writes as fit.
    this.context.atEndOfTurn(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes the queue now (also called by `PeerTransport.flush`); a flush already scheduled for this turn then finds it empty. */
  flush(): void {
    const stream = this.stream;
    if (this.state !== 'connected' || stream === undefined) return;
    while (!this.writeBlocked && this.queue.length > 0) {
      const batch = this.queue.takeBatch();
      const frame = encodeMessagesFrame(batch);
      this.context.counters.sentFrames++;
      this.context.counters.sentMessages += batch.length;
      this.context.counters.sentBytes += frame.length;
      traceStage?.('peer-write', 0);
      if (!stream.write(frame)) this.writeBlocked = true;
    }
  }
}
