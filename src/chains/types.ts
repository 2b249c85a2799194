/**
 * The shapes every part of the chains layer shares: a chain's definition as the control plane
 * holds it, one record of a chain's log, and the storage contract the replication protocol
 * runs on. The model is described in docs/CHAINS.md.
 */
import type { NodeId } from '../lib/index.js';

/**
 * When an append is acknowledged to its client: once the leader holds it (`one`), once a
 * majority of the replica set does (`quorum`, the default), or once every replica does (`all`).
 * Only `quorum` and `all` survive the loss of the leader.
 */
export type AcksPolicy = 'one' | 'quorum' | 'all';

/**
 * When a replica's writes reach the disk: one fdatasync for each batch of appends, before the
 * batch is acknowledged (`batch`, the default), or every `intervalMs` (acknowledged writes then
 * survive a process crash, not a machine crash).
 */
export type ChainSyncPolicy =
  | { readonly mode: 'batch' }
  | { readonly mode: 'interval'; readonly intervalMs: number };

/** How much of a chain's log each replica keeps; the oldest whole segments go first. */
export interface ChainRetention {
  readonly maxBytes?: number;
  readonly maxAgeMs?: number;
}

/**
 * A chain as the control plane holds it (`chains/<name>`). Changed only by compare-and-swap on
 * its mod revision, so each epoch has exactly one leader.
 */
export interface ChainDefinition {
  readonly name: string;
  /** Distinct nodes holding a copy, in placement order. */
  readonly replicas: readonly NodeId[];
  /**
   * Nodes being caught up to replace a replica: they receive every append but count for neither
   * acknowledgements nor claims until a compare-and-swap moves them into `replicas`.
   */
  readonly learners?: readonly NodeId[];
  readonly acks: AcksPolicy;
  readonly sync: ChainSyncPolicy;
  readonly retention: ChainRetention;
  /** Largest payload of one record; MAX_CHAIN_RECORD_BYTES when absent. */
  readonly maxRecordBytes?: number;
  /** Grows by one with every change of leader; 0 before the first leader is chosen. */
  readonly epoch: number;
  /** The replica allowed to accept appends in `epoch`; absent while epoch is 0. */
  readonly leader?: NodeId;
  /** Where appends are expected to come from: the leader is chosen nearest to it. */
  readonly origin?: NodeId;
  readonly createdAtMs: number;
}

/** Data from a client, or the marker a new leader writes first in its epoch. */
export type ChainEntryKind = 'data' | 'epoch-start';

/** One record of a chain's log. Offsets grow by one per record and are never reused. */
export interface ChainEntry {
  readonly offset: number;
  /** The epoch of the leader that first wrote it. */
  readonly epoch: number;
  readonly kind: ChainEntryKind;
  /** The leader's wall clock when it accepted the record (retention by age uses it). */
  readonly appendedAtMs: number;
  readonly payload: Uint8Array;
}

/** Where an epoch's records begin in a log: the log's epoch history is a list of these. */
export interface EpochStart {
  readonly epoch: number;
  readonly offset: number;
}

/**
 * One replica's copy of one chain on its disk. Writes are ordered: `append`, `truncateFrom` and
 * `setPromisedEpoch` take effect in call order, and `durable()` answers once everything called
 * before it is on disk (group commit: every call waiting meanwhile shares one fdatasync).
 */
export interface ChainLog {
  /** The first offset still kept (retention drops whole segments from the front). */
  readonly startOffset: number;
  /** The offset the next appended record takes. */
  readonly endOffset: number;
  /** Records below this offset are on disk. */
  readonly durableOffset: number;
  /** The highest epoch this replica promised to follow (kept across restarts). */
  readonly promisedEpoch: number;
  /** Epoch of the last record, 0 for an empty log. */
  readonly lastEpoch: number;
  /** Where each epoch's records begin, oldest first (epochs without records are absent). */
  epochHistory(): readonly EpochStart[];
  /** Appends records; the first must have offset `endOffset`, each the next one. */
  append(entries: readonly ChainEntry[]): void;
  /** Drops every record at or after `offset` (a divergent suffix), durably before `durable()`. */
  truncateFrom(offset: number): void;
  /** Records the promise; it is durable when `durable()` next resolves. */
  setPromisedEpoch(epoch: number): void;
  /** Resolves with `durableOffset` once every earlier write is on disk. */
  durable(): Promise<number>;
  /** Records from `fromOffset`, at most `maxRecords` and about `maxBytes` (always at least one). */
  read(fromOffset: number, maxRecords: number, maxBytes: number): Promise<ChainEntry[]>;
  /**
   * Applies the retention policy: drops whole segments that fall outside it, never one holding a
   * record at or after `keepFrom` (a replica passes its commit offset: only committed records go).
   * Whole segments entirely below `trimBelow` (a chain's trim floor) go whatever the policy.
   */
  applyRetention(nowMs: number, keepFrom?: number, trimBelow?: number): Promise<void>;
  /**
   * Drops every record and continues empty at `offset` (at least `startOffset`), durably before
   * the next `durable()` resolves: for a replica whose leader no longer holds the records that
   * would join the two logs (retention dropped them), so it starts over where the leader's log
   * starts. `startOffset` and `endOffset` are `offset` at once; the epoch history is empty.
   */
  restartAt(offset: number): void;
  close(): Promise<void>;
}

/** The chain's messages between replicas travel over one channel of the peer transport. */
export interface ChainPeerLink {
  /** False when the message was dropped (unknown peer, queue full): the protocol retries. */
  send(peer: NodeId, payload: Uint8Array): boolean;
  onMessage(handler: (from: NodeId, payload: Uint8Array) => void): void;
  /** An established connection to `peer` closed: the peer probably died. */
  onPeerLost(handler: (peer: NodeId) => void): void;
  /**
   * True while the connection to `peer` is lost and not up again: a forwarded request to it is
   * then refused at once, unsent, rather than queued for the peer's return. Links that cannot
   * tell omit it.
   */
  connectionLost?(peer: NodeId): boolean;
}
