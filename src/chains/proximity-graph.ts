/**
 * This node's row of the RTT matrix: it pings every peer it is given once per interval on the
 * proximity channel, answers their pings, keeps a smoothed RTT per peer, and judges each peer
 * healthy while its pongs keep arriving within the health deadline (docs/CHAINS.md "Election").
 * A lost connection marks the peer unhealthy at once; its next pong makes it healthy again.
 * RTT samples come only from pings sent once the connection answered (a peer's first pong is
 * followed by a ping at once), none while the connection is lost, and none answered later than
 * the health deadline: a ping that waited for a connection or through an outage must not make a
 * slow path (the reconciler avoids slow peers).
 */
import { type Clock, type NodeId, type TimerId, ValidationError } from '../lib/index.js';
import {
  MAX_PROXIMITY_PEERS,
  PROXIMITY_HEALTH_DEADLINE_MS,
  PROXIMITY_PING_INTERVAL_MS,
  RTT_SMOOTHING_WEIGHT,
} from './proximity-limits.js';
import type { PeerProximity } from './proximity-matrix.js';
import { decodeProximityMessage, encodeProximityMessage } from './proximity-messages.js';
import type { ChainPeerLink } from './types.js';

/** One channel of the peer transport (the proximity channel): the same shape chains use. */
export type ProximityLink = ChainPeerLink;

export interface ProximityGraphOptions {
  readonly link: ProximityLink;
  readonly clock: Clock;
  readonly pingIntervalMs?: number;
  readonly healthDeadlineMs?: number;
}

interface PeerState {
  rttMs: number | undefined;
  lastPongAtMs: number | undefined;
  /** The connection closed after the last pong: unhealthy until the next one. */
  lost: boolean;
  /**
   * When the first pong over the current connection came (undefined before it, and again after a
   * loss): only a ping sent from then on measures the path; an earlier one may have waited for
   * the connection to be made.
   */
  answeringSinceMs: number | undefined;
  /** Health as last reported to listeners. */
  reportedHealthy: boolean;
}

export type HealthChangeListener = (peer: NodeId, healthy: boolean) => void;

export class ProximityGraph {
  private readonly peers = new Map<NodeId, PeerState>();
  private readonly listeners: HealthChangeListener[] = [];
  private readonly pingIntervalMs: number;
  private readonly healthDeadlineMs: number;
  private timer: TimerId | undefined;
  private running = false;
  /** Pings sent, pongs received (for tests and status). */
  pingsSent = 0;
  pongsReceived = 0;

  constructor(private readonly options: ProximityGraphOptions) {
    this.pingIntervalMs = options.pingIntervalMs ?? PROXIMITY_PING_INTERVAL_MS;
    this.healthDeadlineMs = options.healthDeadlineMs ?? PROXIMITY_HEALTH_DEADLINE_MS;
    if (!(this.pingIntervalMs > 0 && this.healthDeadlineMs > this.pingIntervalMs)) {
      throw new ValidationError('proximity graph options', [
        'pingIntervalMs must be positive and below healthDeadlineMs',
      ]);
    }
    options.link.onMessage((from, payload) => this.receive(from, payload));
    options.link.onPeerLost((peer) => this.peerLost(peer));
  }

  /** Starts pinging (at once, then every interval). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /**
   * The peers to ping (this node excluded by the caller): new ones are pinged at once, gone ones
   * forgotten. More than MAX_PROXIMITY_PEERS is a VALIDATION_FAILED error.
   */
  setPeers(peers: Iterable<NodeId>): void {
    const wanted = new Set(peers);
    if (wanted.size > MAX_PROXIMITY_PEERS) {
      throw new ValidationError('proximity peers', [
        `${wanted.size} peers, at most ${MAX_PROXIMITY_PEERS} are pinged`,
      ]);
    }
    for (const peer of this.peers.keys()) if (!wanted.has(peer)) this.peers.delete(peer);
    for (const peer of wanted) {
      if (this.peers.has(peer)) continue;
      this.peers.set(peer, {
        rttMs: undefined,
        lastPongAtMs: undefined,
        lost: false,
        answeringSinceMs: undefined,
        reportedHealthy: false,
      });
      if (this.running) this.ping(peer);
    }
  }

  /** Called with each peer whose health changed (checked at every pong, loss and ping round). */
  onHealthChange(listener: HealthChangeListener): void {
    this.listeners.push(listener);
  }

  /** Every peer's smoothed RTT and health now. */
  row(): Map<NodeId, PeerProximity> {
    const row = new Map<NodeId, PeerProximity>();
    for (const [peer, state] of this.peers) {
      const healthy = this.isHealthy(state);
      row.set(peer, state.rttMs === undefined ? { healthy } : { rttMs: state.rttMs, healthy });
    }
    return row;
  }

  private tick(): void {
    this.timer = undefined;
    if (!this.running) return;
    for (const peer of this.peers.keys()) this.ping(peer);
    this.reportChanges();
    this.timer = this.options.clock.setTimer(this.pingIntervalMs, () => this.tick());
  }

  private ping(peer: NodeId): void {
    // A ping sent while the connection is down would wait in the transport's queue and, answered
    // after the reconnect, measure the outage instead of the path.
    if (this.options.link.connectionLost?.(peer) === true) return;
    const message = encodeProximityMessage({ kind: 'ping', sentAtMs: this.options.clock.nowMs() });
    if (this.options.link.send(peer, message)) this.pingsSent += 1;
  }

  private receive(from: NodeId, payload: Uint8Array): void {
    const message = decodeProximityMessage(payload);
    if (message === undefined) return;
    if (message.kind === 'ping') {
      this.options.link.send(from, encodeProximityMessage({ kind: 'pong', sentAtMs: message.sentAtMs }));
      return;
    }
    const state = this.peers.get(from);
    const nowMs = this.options.clock.nowMs();
    const sampleMs = nowMs - message.sentAtMs;
    // A pong for a ping this clock never sent (in the future) says nothing.
    if (state === undefined || sampleMs < 0) return;
    this.pongsReceived += 1;
    const firstAnswer = state.answeringSinceMs === undefined;
    if (firstAnswer) state.answeringSinceMs = nowMs;
    // A ping sent before the connection answered may have waited for it to be made, and one
    // answered later than the health deadline waited somewhere (a paused process): neither
    // measures the path. The first answer is followed by a ping at once that does.
    else if (message.sentAtMs >= (state.answeringSinceMs as number) && sampleMs <= this.healthDeadlineMs)
      state.rttMs =
        state.rttMs === undefined ? sampleMs : state.rttMs + RTT_SMOOTHING_WEIGHT * (sampleMs - state.rttMs);
    state.lastPongAtMs = nowMs;
    state.lost = false;
    // The measuring ping's answer reports the change, RTT known (the next round does if it is lost).
    if (firstAnswer && this.running) this.ping(from);
    else this.reportChange(from, state);
  }

  private peerLost(peer: NodeId): void {
    const state = this.peers.get(peer);
    if (state === undefined) return;
    state.lost = true;
    state.answeringSinceMs = undefined;
    this.reportChange(peer, state);
  }

  private isHealthy(state: PeerState): boolean {
    return (
      !state.lost &&
      state.lastPongAtMs !== undefined &&
      this.options.clock.nowMs() - state.lastPongAtMs <= this.healthDeadlineMs
    );
  }

  private reportChanges(): void {
    for (const [peer, state] of this.peers) this.reportChange(peer, state);
  }

  private reportChange(peer: NodeId, state: PeerState): void {
    const healthy = this.isHealthy(state);
    if (healthy === state.reportedHealthy) return;
    state.reportedHealthy = healthy;
    for (const listener of this.listeners) listener(peer, healthy);
  }
}
