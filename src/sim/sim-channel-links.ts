import { decodeHostFrame } from '../chains/index.js';
import type { NodeId } from '../lib/index.js';
import type { PeerChannelLink } from '../server/index.js';
import { type Life, whenRunning } from './incarnation.js';
import type { Scheduler } from './scheduler.js';
import type { SimNetwork } from './sim-network.js';
import { announceProcessEnd, type ChannelEndpoint } from './sim-peer-links.js';

/** How the network treats one frame of a channel: its trace label, and whether it may arrive twice. */
export interface ChannelFrameKind {
  readonly label: string;
  readonly duplicable: boolean;
}

/**
 * One channel of the peer transport (chains, daemons) over the simulated network: each process
 * gets a `PeerChannelLink` whose frames cross `SimNetwork` under the same knobs as Raft's
 * messages (delay, loss, reordering, partitions; duplication for the frames whose protocol takes
 * it). Only the current life of a node sends or receives; a process that ends is reported to its
 * peers as a closed connection.
 */
export class SimChannelLinks {
  private readonly endpoints = new Map<NodeId, ChannelEndpoint>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly network: SimNetwork,
    /** The channel's name in the trace (`chains`, `daemons`). */
    private readonly channel: string,
    private readonly kindOf: (payload: Uint8Array) => ChannelFrameKind,
  ) {}

  linkFor(life: Life): PeerChannelLink {
    const endpoint: ChannelEndpoint = { life, onMessage: undefined, onPeerLost: undefined };
    this.endpoints.set(life.node, endpoint);
    return {
      send: (peer, payload) => {
        if (!life.alive) return false;
        // The receiver gets its own copy, as from a socket.
        const bytes = payload.slice();
        const kind = this.kindOf(bytes);
        this.network.carry(
          life.node,
          peer,
          kind.label,
          kind.duplicable,
          () => this.deliver(life.node, peer, bytes),
          () => {},
        );
        return true;
      },
      onMessage: (handler) => {
        endpoint.onMessage = handler;
      },
      onPeerLost: (handler) => {
        endpoint.onPeerLost = handler;
      },
    };
  }

  private deliver(from: NodeId, to: NodeId, payload: Uint8Array): void {
    const endpoint = this.endpoints.get(to);
    if (endpoint === undefined || !endpoint.life.alive) return;
    whenRunning(this.scheduler, endpoint.life, `paused ${this.channel} delivery`, () =>
      endpoint.onMessage?.(from, payload),
    );
  }

  /** Node `node`'s process ended: its peers see the channel's connection close. */
  processEnded(node: NodeId): void {
    announceProcessEnd(this.scheduler, this.network, this.endpoints, node);
  }
}

const CHAIN_REPLICA_FRAME: ChannelFrameKind = { label: 'deliver chain replica', duplicable: true };
const CHAIN_REQUEST_FRAME: ChannelFrameKind = { label: 'deliver chain request', duplicable: false };

/**
 * The chains channel's frames: the replication protocol takes duplicates; forwarded requests and
 * their answers rely on the peer transport's at-most-once delivery (a stream never sends a frame
 * twice).
 */
export function chainFrameKind(payload: Uint8Array): ChannelFrameKind {
  try {
    return decodeHostFrame(payload).kind === 'replica' ? CHAIN_REPLICA_FRAME : CHAIN_REQUEST_FRAME;
  } catch {
    return CHAIN_REQUEST_FRAME;
  }
}
