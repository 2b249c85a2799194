/**
 * The mesh's RTT matrix as the control plane holds it: one row per node (`proximity/<node>`),
 * each the node's own measurements of every peer it pings. The chains layer reads it to choose
 * leaders from one shared view (docs/CHAINS.md "Election").
 */
import type { NodeId } from '../lib/index.js';

/** One node's measurement of one peer. */
export interface PeerProximity {
  /** Smoothed round-trip time; absent until the first pong arrives. */
  readonly rttMs?: number;
  /** A pong arrived within the health deadline and the connection has not been lost since. */
  readonly healthy: boolean;
}

/** What one node publishes about the peers it pings. */
export interface ProximityRow {
  readonly node: NodeId;
  /** The publisher's wall clock when it wrote the row (for people; freshness is judged locally). */
  readonly publishedAtMs: number;
  readonly peers: ReadonlyMap<NodeId, PeerProximity>;
}

/** A row as a reader holds it: `fresh` while it was rewritten recently enough (see the follower). */
export interface ProximityMatrixRow extends ProximityRow {
  readonly fresh: boolean;
}

/** Every node's row, as one reader sees the control plane. */
export interface ProximityMatrix {
  readonly rows: ReadonlyMap<NodeId, ProximityMatrixRow>;
}
