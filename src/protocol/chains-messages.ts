/**
 * The shapes of `meshos.v1.Chains` messages as the server and the client both see them, under
 * the loader options in chains-proto.ts: 64-bit integers arrive as decimal strings and may be
 * sent as numbers; enums travel as their names; bytes arrive as Buffers.
 */
import type { BytesIn, Int64In, Int64Out } from './messages.js';

export type PbAcks = 'ACKS_UNSPECIFIED' | 'ACKS_ONE' | 'ACKS_QUORUM' | 'ACKS_ALL';
export type PbSyncMode = 'SYNC_UNSPECIFIED' | 'SYNC_BATCH' | 'SYNC_INTERVAL';

/** Enum fields of requests may also hold a number the schema does not name. */
export interface PbCreateChainRequest<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly replicas: number;
  readonly acks: PbAcks | number;
  readonly sync_mode: PbSyncMode | number;
  /** Only with SYNC_INTERVAL. */
  readonly sync_interval_ms: Int64;
  /** 0: no limit. */
  readonly retention_max_bytes: Int64;
  /** 0: no limit. */
  readonly retention_max_age_ms: Int64;
  /** 0: the node's default. */
  readonly max_record_bytes: number;
}

export interface PbChainReplica<Int64 extends Int64Out = Int64In> {
  readonly node: Int64;
  readonly offset: Int64;
  readonly lag: Int64;
  readonly healthy: boolean;
}

export interface PbChainStatus<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly epoch: Int64;
  /** 0: no leader chosen. */
  readonly leader: Int64;
  readonly acks: PbAcks;
  readonly replicas: readonly PbChainReplica<Int64>[];
  readonly learners: readonly PbChainReplica<Int64>[];
  readonly commit_offset: Int64;
  readonly start_offset: Int64;
  /** Where the leader's epoch-start marker is; meaningful only with `leader_view`. */
  readonly epoch_start_offset: Int64;
  /** The status is the leader's own, leading its epoch (else a replica's or the definition's). */
  readonly leader_view: boolean;
}

export interface PbChainName {
  readonly name: string;
}

export interface PbAppendRequest {
  readonly name: string;
  readonly payloads: readonly BytesIn[];
}

export interface PbAppendResponse<Int64 extends Int64Out = Int64In> {
  readonly epoch: Int64;
  readonly first_offset: Int64;
  readonly last_offset: Int64;
}

/** One append on an AppendStream: its id is unique among the stream's appends in flight. */
export interface PbAppendStreamRequest<Int64 extends Int64Out = Int64In> {
  readonly request_id: Int64;
  readonly name: string;
  readonly payloads: readonly BytesIn[];
  /** 0: the server's default. */
  readonly timeout_ms: number;
}

/** Why one append of a stream failed: its `MeshError` code, message and details, and the gRPC status a unary Append would have ended with. */
export interface PbAppendFailure {
  readonly code: string;
  readonly message: string;
  readonly details_json: string;
  readonly status: number;
}

/** The answer to one append of a stream: offsets, or `failure` (null on success). */
export interface PbAppendStreamResponse<Int64 extends Int64Out = Int64In> {
  readonly request_id: Int64;
  readonly epoch: Int64;
  readonly first_offset: Int64;
  readonly last_offset: Int64;
  readonly failure: PbAppendFailure | null;
}

export interface PbReadRequest<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly from_offset: Int64;
  /** 0: the server's default. */
  readonly limit: number;
  /** 0: the server's default. */
  readonly max_bytes: number;
}

export interface PbChainRecord<Int64 extends Int64Out = Int64In> {
  readonly offset: Int64;
  readonly epoch: Int64;
  readonly appended_at_ms: Int64;
  readonly payload: Uint8Array;
}

export interface PbReadResponse<Int64 extends Int64Out = Int64In> {
  readonly records: readonly PbChainRecord<Int64>[];
  readonly next_offset: Int64;
  readonly commit_offset: Int64;
}

export interface PbSubscribeRequest<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly from_offset: Int64;
}

export interface PbSubscribeResponse<Int64 extends Int64Out = Int64In> {
  readonly records: readonly PbChainRecord<Int64>[];
}

export interface PbChainSummary<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly epoch: Int64;
  readonly leader: Int64;
  readonly acks: PbAcks;
  readonly replicas: readonly Int64[];
}

export interface PbListChainsResponse<Int64 extends Int64Out = Int64In> {
  readonly chains: readonly PbChainSummary<Int64>[];
}
