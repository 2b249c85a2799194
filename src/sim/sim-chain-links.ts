import { type ChainPeerLink, decodeHostFrame } from '../chains/index.js';
import type { NodeId } from '../lib/index.js';
import { type Life, whenRunning } from './incarnation.js';
import type { Scheduler } from './scheduler.js';
import type { SimNetwork } from './sim-network.js';
import { announceProcessEnd, type ChannelEndpoint } from './sim-peer-links.js';

const REPLICA_LABEL = 'deliver chain replica';
const REQUEST_LABEL = 'deliver chain request';

/**
 * The chains channel of the peer transport over the simulated network: each process's chain
 * host gets a `ChainPeerLink` whose frames cross `SimNetwork` under the same knobs as Raft's
 * messages (delay, loss, duplication, reordering, partitions). Only the current life of a node
 * sends or receives; a process that ends is reported to its peers as a closed connection.
 */
export class SimChainLinks {
  private readonly endpoints = new Map<NodeId, ChannelEndpoint>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly network: SimNetwork,
  ) {}

  linkFor(life: Life): ChainPeerLink {
    const endpoint: ChannelEndpoint = { life, onMessage: undefined, onPeerLost: undefined };
    this.endpoints.set(life.node, endpoint);
    return {
      send: (peer, payload) => {
        if (!life.alive) return false;
        // The receiver gets its own copy, as from a socket.
        const bytes = payload.slice();
        // The replication protocol takes duplicates; forwarded requests and their answers rely
        // on the peer transport's at-most-once delivery (a stream never sends a frame twice).
        const replica = isReplicaFrame(bytes);
        this.network.carry(
          life.node,
          peer,
          replica ? REPLICA_LABEL : REQUEST_LABEL,
          replica,
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
    whenRunning(this.scheduler, endpoint.life, 'paused chains delivery', () =>
      endpoint.onMessage?.(from, payload),
    );
  }

  /** Node `node`'s process ended: its peers see the chains connection close. */
  processEnded(node: NodeId): void {
    announceProcessEnd(this.scheduler, this.network, this.endpoints, node);
  }
}

function isReplicaFrame(payload: Uint8Array): boolean {
  try {
    return decodeHostFrame(payload).kind === 'replica';
  } catch {
    return false;
  }
}
