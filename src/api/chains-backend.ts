/**
 * What the `meshos.v1.Chains` gRPC service needs from a node. The node's chains service
 * implements it; the API layer never reaches past it. The model (epochs, acks, commit) is
 * described in docs/CHAINS.md.
 *
 * Error contract: every method resolves with its answer or rejects with a typed `MeshError`
 * (the classes in `src/chains/errors.ts`, or `ValidationError` for bad input). No error travels
 * as a value. The codes and what each means for a client are in one table,
 * `src/protocol/chain-errors.ts`:
 *
 * | code                           | when                                                                      |
 * | ------------------------------ | ------------------------------------------------------------------------- |
 * | `CHAIN_NOT_FOUND`              | no chain of that name                                                     |
 * | `CHAIN_EXISTS`                 | create of a taken name                                                    |
 * | `CHAIN_NOT_LEADER`             | no leader could take the append *before* it was proposed: not written     |
 * | `CHAIN_UNAVAILABLE`            | no leader/quorum reachable; an append was never sent: not written         |
 * | `CHAIN_OVERLOADED`             | a bounded queue was full; the append was refused unproposed: not written  |
 * | `CHAIN_APPEND_OUTCOME_UNKNOWN` | the append reached a leader but was not acknowledged: maybe written       |
 * | `CHAIN_RECORD_TOO_LARGE`       | a record above the chain's `maxRecordBytes`: nothing of the batch written |
 * | `CHAIN_OFFSET_TRUNCATED`       | read/subscribe from an offset retention dropped                           |
 * | `CHAIN_SUBSCRIBER_TOO_SLOW`    | a subscriber's bounded buffer filled; the subscription ends               |
 * | `CHAIN_LIMIT_REACHED`          | a node-wide limit (chains held, subscriptions)                            |
 * | `VALIDATION_FAILED`            | bad input (name, counts, policies)                                        |
 *
 * An append that misses its deadline after it was proposed rejects with
 * `CHAIN_APPEND_OUTCOME_UNKNOWN`, never with a code that says "not written".
 */
import type { AcksPolicy, ChainRetention, ChainSyncPolicy } from '../chains/index.js';
import type { NodeId } from '../lib/index.js';

export interface ChainCreateInput {
  readonly name: string;
  /** How many distinct nodes hold a copy (the backend places them). */
  readonly replicas: number;
  readonly acks: AcksPolicy;
  /** Defaults to `{mode: 'batch'}`. */
  readonly sync?: ChainSyncPolicy;
  /** Defaults to keeping everything. */
  readonly retention?: ChainRetention;
  /** Largest payload of one record; the backend's default when absent. */
  readonly maxRecordBytes?: number;
}

/** One replica as the chain's leader sees it. */
export interface ChainReplicaStatus {
  readonly node: NodeId;
  /** The replica's end offset as last reported to the leader (the offset its next record takes). */
  readonly offset: number;
  /** Records the replica is behind the leader's end offset. */
  readonly lag: number;
  readonly healthy: boolean;
}

export interface ChainStatus {
  readonly name: string;
  readonly epoch: number;
  /** 0 while no leader is chosen. */
  readonly leader: NodeId | 0;
  readonly acks: AcksPolicy;
  readonly replicas: readonly ChainReplicaStatus[];
  /** Nodes being caught up to replace a replica (they count for nothing yet). */
  readonly learners?: readonly ChainReplicaStatus[];
  /** Records below this offset are committed (readable). */
  readonly commitOffset: number;
  /** The first offset still kept (retention drops whole segments). */
  readonly startOffset: number;
  /**
   * Where the leader's `epoch-start` marker is, present only when the status is the leader's own
   * view while it leads. Every record committed in an earlier epoch lies below it, while
   * `commitOffset` may still lag them right after a leader change: a copy caught up with the
   * chain reaches both.
   */
  readonly epochStartOffset?: number;
}

/** A chain in `list()`: what its definition says, without asking its replicas. */
export interface ChainSummary {
  readonly name: string;
  readonly epoch: number;
  readonly leader: NodeId | 0;
  readonly acks: AcksPolicy;
  readonly replicas: readonly NodeId[];
}

export interface ChainAppendResult {
  /** The epoch of the leader that accepted the batch. */
  readonly epoch: number;
  /** Offsets of the batch's first and last records (consecutive; the batch is never split). */
  readonly firstOffset: number;
  readonly lastOffset: number;
}

/** A client's record as readers see it (leaders' `epoch-start` markers are skipped). */
export interface ChainRecord {
  readonly offset: number;
  readonly epoch: number;
  readonly appendedAtMs: number;
  readonly payload: Uint8Array;
}

export interface ChainReadResult {
  /** Committed records from `fromOffset`, in offset order (offsets may have gaps: markers). */
  readonly records: readonly ChainRecord[];
  /** Where the next read continues: past the last record returned (or `fromOffset`). */
  readonly nextOffset: number;
  readonly commitOffset: number;
}

/**
 * A subscription's records, one by one, or as the batches they were read in (one read of the
 * replica each, never empty) for a consumer that sends them on in bulk. Iterate one of the two,
 * once.
 */
export interface ChainRecordStream extends AsyncIterable<ChainRecord> {
  batches(): AsyncIterable<readonly ChainRecord[]>;
  /**
   * The offset the subscription has passed: every record below it was handed over and the
   * consumer asked for more, and the `epoch-start` markers below it were read past. It runs
   * ahead of the last record's offset + 1 when the chain's committed end is a marker (a new
   * leader's, with no record after it yet), which a consumer never sees as a record.
   */
  readonly position: number;
}

export interface ChainsBackend {
  /** Places the replicas, commits the definition, and answers the new chain's status. */
  create(input: ChainCreateInput): Promise<ChainStatus>;
  /** Removes the definition; the replicas drop their copies. CHAIN_NOT_FOUND if absent. */
  delete(name: string): Promise<void>;
  /**
   * Appends a batch (at least one payload) as consecutive records, through whichever node is
   * the chain's leader (a non-leader forwards). Resolves once the chain's acks policy is met.
   * `timeoutMs` is how long from now the caller waits; past it the append rejects with
   * CHAIN_APPEND_OUTCOME_UNKNOWN if the batch was proposed, CHAIN_UNAVAILABLE if it never was.
   */
  append(name: string, payloads: readonly Uint8Array[], timeoutMs: number): Promise<ChainAppendResult>;
  /**
   * Committed records from `fromOffset`: at most `limit` records and about `maxBytes` (at least
   * one record when one is available). Empty, with `nextOffset = fromOffset`, at the commit
   * offset. CHAIN_OFFSET_TRUNCATED below the chain's start offset.
   */
  read(name: string, fromOffset: number, limit: number, maxBytes: number): Promise<ChainReadResult>;
  /**
   * Committed records from `fromOffset` on, as they commit, until `signal` aborts (the iterable
   * then ends without an error): record by record, or (`batches()`) as the batches they were read
   * in. Buffering is bounded: a subscriber that falls too far behind is ended with
   * CHAIN_SUBSCRIBER_TOO_SLOW; a deleted chain ends it with CHAIN_NOT_FOUND.
   */
  subscribe(name: string, fromOffset: number, signal: AbortSignal): ChainRecordStream;
  status(name: string): Promise<ChainStatus>;
  /** Every chain, by name. */
  list(): Promise<readonly ChainSummary[]>;
}
