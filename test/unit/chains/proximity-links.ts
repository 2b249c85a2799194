import type { ProximityLink } from '../../../src/chains/index.js';
import type { ManualClock, NodeId } from '../../../src/lib/index.js';

interface Endpoint {
  onMessage: (from: NodeId, payload: Uint8Array) => void;
  onPeerLost: (peer: NodeId) => void;
}

/**
 * Links between nodes on one manual clock: each message arrives `latencyMs` after it was sent
 * (per direction), a cut pair silently drops what is sent, and `loseConnection` reports the
 * lost connection to both ends as the transport would.
 */
export class ProximityLinks {
  private readonly endpoints = new Map<NodeId, Endpoint>();
  private readonly latencyMs = new Map<string, number>();
  private readonly cut = new Set<string>();
  /** Messages sent, by `from>to`. */
  readonly sent = new Map<string, number>();
  /** Pairs whose connection the transport reports lost (`connectionLost`), by `from>to`. */
  readonly down = new Set<string>();

  constructor(
    private readonly clock: ManualClock,
    private readonly defaultLatencyMs = 1,
  ) {}

  link(self: NodeId): ProximityLink {
    const endpoint: Endpoint = { onMessage: () => {}, onPeerLost: () => {} };
    this.endpoints.set(self, endpoint);
    return {
      send: (peer, payload) => this.send(self, peer, payload),
      onMessage: (handler) => {
        endpoint.onMessage = handler;
      },
      onPeerLost: (handler) => {
        endpoint.onPeerLost = handler;
      },
      connectionLost: (peer) => this.down.has(`${self}>${peer}`),
    };
  }

  /** One-way latency from `from` to `to`. */
  setLatency(from: NodeId, to: NodeId, latencyMs: number): void {
    this.latencyMs.set(`${from}>${to}`, latencyMs);
  }

  cutBetween(a: NodeId, b: NodeId): void {
    this.cut.add(pairKey(a, b));
  }

  heal(a: NodeId, b: NodeId): void {
    this.cut.delete(pairKey(a, b));
  }

  loseConnection(a: NodeId, b: NodeId): void {
    this.endpoints.get(a)?.onPeerLost(b);
    this.endpoints.get(b)?.onPeerLost(a);
  }

  /** Delivers raw bytes to `to` as if `from` sent them (for malformed input). */
  inject(from: NodeId, to: NodeId, payload: Uint8Array): void {
    this.endpoints.get(to)?.onMessage(from, payload);
  }

  private send(from: NodeId, to: NodeId, payload: Uint8Array): boolean {
    const target = this.endpoints.get(to);
    if (target === undefined) return false;
    const key = `${from}>${to}`;
    this.sent.set(key, (this.sent.get(key) ?? 0) + 1);
    if (this.cut.has(pairKey(from, to))) return true;
    const copy = payload.slice();
    this.clock.setTimer(this.latencyMs.get(key) ?? this.defaultLatencyMs, () => target.onMessage(from, copy));
    return true;
  }
}

function pairKey(a: NodeId, b: NodeId): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}
