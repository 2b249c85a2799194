import type { Clock, Logger, Network, NodeId, Random } from '../lib/index.js';
import type { Frame } from './frame.js';
import type { PeerExpectations } from './peer-check.js';
import type { RefusalReason, RefusedByPeerReason } from './refusal.js';

export const DROP_REASONS = [
  'queue-full-messages',
  'queue-full-bytes',
  'too-large',
  'unknown-peer',
  'stopped',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface TransportCounters {
  /** Connections this node refused, by reason. */
  readonly refusedPeers: Record<RefusalReason, number>;
  /** Connections a peer refused (seen from the dialing side through TLS alerts), by reason. */
  readonly refusedByPeers: Record<RefusedByPeerReason, number>;
  /** Messages `send` did not queue, by reason. */
  readonly droppedMessages: Record<DropReason, number>;
  /** Queued messages discarded because their peer left the membership or the transport stopped. */
  discardedQueued: number;
  badFrames: number;
  sentMessages: number;
  sentFrames: number;
  sentBytes: number;
  receivedMessages: number;
  receivedFrames: number;
  connectFailures: number;
  linksEstablished: number;
}

/** What links and inbound connections need from the transport that owns them. */
export interface TransportContext {
  readonly nodeId: NodeId;
  readonly clock: Clock;
  readonly random: Random;
  readonly network: Network;
  readonly logger: Logger;
  readonly counters: TransportCounters;
  readonly handshakeFrame: Uint8Array;
  readonly handshakeTimeoutMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly sendQueueMessages: number;
  readonly sendQueueBytes: number;
  /** Where a link's write of what was sent in this turn is deferred to. */
  atEndOfTurn(write: () => void): void;
  expectations(expectedNodeId?: NodeId): PeerExpectations;
  deliver(from: NodeId, frame: Frame): void;
  refuse(reason: RefusalReason, remote: string, details?: Record<string, unknown>): void;
  refusedByPeer(reason: RefusedByPeerReason, peerId: NodeId): void;
  connected(peerId: NodeId): void;
  unreachable(peerId: NodeId): void;
  /** An established connection to or from `peerId` closed (not during a handshake or a planned close). */
  peerLost(peerId: NodeId): void;
}
