import { decodeMessage, type Message, type NodeId } from '../raft/index.js';
import type { PeerLink } from '../server/index.js';
import { type Life, whenRunning } from './incarnation.js';
import type { Scheduler } from './scheduler.js';
import type { SimNetwork } from './sim-network.js';

/** One process's end of a channel: what it handles, for as long as its life lasts. */
export interface ChannelEndpoint {
  readonly life: Life;
  onMessage: ((from: NodeId, payload: Uint8Array) => void) | undefined;
  onPeerLost: ((peer: NodeId) => void) | undefined;
}

interface Endpoint extends ChannelEndpoint {
  onUnreachable: ((peer: NodeId) => void) | undefined;
}

/**
 * Node `node`'s process ended: every live peer endpoint of one channel that it can still reach
 * sees its connection close a network delay later (behind a partition the close never
 * arrives, as with TCP).
 */
export function announceProcessEnd(
  scheduler: Scheduler,
  network: SimNetwork,
  endpoints: ReadonlyMap<NodeId, ChannelEndpoint>,
  node: NodeId,
): void {
  for (const [peer, endpoint] of endpoints) {
    if (peer === node || !endpoint.life.alive || network.isBlocked(node, peer)) continue;
    const life = endpoint.life;
    scheduler.schedule(
      network.sampleDelayUs(),
      'peer lost',
      () => {
        if (endpoints.get(peer) !== endpoint) return;
        whenRunning(scheduler, life, 'paused peer lost', () => endpoint.onPeerLost?.(node));
      },
      peer,
      node,
    );
  }
}

/**
 * `PeerLink`s of the production nodes over the simulated network. The bytes a node sends
 * are decoded once so the network can apply its knobs and label the trace; the receiver
 * gets the very bytes that were sent. Only the current life of a node sends or receives.
 */
export class SimPeerLinks {
  private readonly endpoints = new Map<NodeId, Endpoint>();
  private readonly payloads = new WeakMap<Message, Uint8Array>();
  private networkRef: SimNetwork | undefined;
  /** Told of every message a process hands to the network (the churn knobs watch appends). */
  onSent: (message: Message) => void = () => {};

  constructor(
    private readonly scheduler: Scheduler,
    /** False models silent loss: only Raft's own retries recover lost messages. */
    private readonly reportLostMessages = true,
  ) {}

  /** Set once, right after the network is built (the network needs this object's callbacks). */
  attach(network: SimNetwork): void {
    this.networkRef = network;
  }

  private get network(): SimNetwork {
    if (this.networkRef === undefined) throw new Error('links used before the network was attached');
    return this.networkRef;
  }

  linkFor(life: Life): PeerLink {
    const endpoint: Endpoint = {
      life,
      onMessage: undefined,
      onUnreachable: undefined,
      onPeerLost: undefined,
    };
    this.endpoints.set(life.node, endpoint);
    return {
      send: (_peer, payload) => {
        if (!life.alive) return false;
        const message = decodeMessage(payload);
        this.payloads.set(message, payload);
        this.network.send(message);
        this.onSent(message);
        return true;
      },
      onMessage: (handler) => {
        endpoint.onMessage = handler;
      },
      onUnreachable: (handler) => {
        endpoint.onUnreachable = handler;
      },
      onPeerLost: (handler) => {
        endpoint.onPeerLost = handler;
      },
    };
  }

  /** Called by the network when a message arrives. */
  deliver(message: Message): void {
    const endpoint = this.endpoints.get(message.to);
    const payload = this.payloads.get(message);
    if (endpoint === undefined || payload === undefined || !endpoint.life.alive) return;
    whenRunning(this.scheduler, endpoint.life, 'paused delivery', () =>
      endpoint.onMessage?.(message.from, payload),
    );
  }

  /**
   * Called when node `node`'s process ended (crashed or stopped): its operating system closes
   * its connections, and every live peer it can still reach sees them close a network delay
   * later. Behind a partition the close never arrives, as with TCP.
   */
  processEnded(node: NodeId): void {
    announceProcessEnd(this.scheduler, this.network, this.endpoints, node);
  }

  /**
   * Called by the network when it lost a message: the sender learns its link failed, as a
   * stream transport would, but on a later turn, never inside its own Ready.
   */
  lost(message: Message): void {
    if (!this.reportLostMessages) return;
    const endpoint = this.endpoints.get(message.from);
    if (endpoint === undefined) return;
    const life = endpoint.life;
    this.scheduler.schedule(
      0,
      'unreachable',
      () => {
        if (life.alive && this.endpoints.get(message.from) === endpoint) endpoint.onUnreachable?.(message.to);
      },
      message.from,
      message.to,
    );
  }
}
