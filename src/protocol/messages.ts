/**
 * The shapes of etcd's v3 messages as the server and the client both see them, under the loader
 * options in etcd-proto.ts. A message is typed as the loader decodes it; one whose 64-bit fields
 * we encode ourselves takes `Int64Out` as its type argument instead.
 */

/** 64-bit integers arrive as decimal strings (the loader's `longs: String`). */
export type Int64In = string;
/** 64-bit integers we send: numbers (safe integers) or decimal strings. */
export type Int64Out = number | string;
/** Cluster and member ids span all of uint64, so they travel as decimal strings both ways. */
export type Uint64Id = string;
/**
 * An unsigned 64-bit value as its two 32-bit halves, which protobufjs encodes without parsing a
 * decimal string (one long object per field instead of a few dozen: every response has a header).
 */
export interface Uint64Halves {
  readonly low: number;
  readonly high: number;
  readonly unsigned: true;
}
/** Ids we send: as received, a safe integer, or halves. */
export type Uint64IdOut = Uint64Id | number | Uint64Halves;
/** Bytes arrive as Buffers (a Uint8Array subclass). */
export type BytesIn = Uint8Array;

export interface PbResponseHeader<Int64 extends Int64Out = Int64In> {
  readonly cluster_id: [Int64] extends [Int64In] ? Uint64Id : Uint64IdOut;
  readonly member_id: [Int64] extends [Int64In] ? Uint64Id : Uint64IdOut;
  readonly revision: Int64;
  readonly raft_term: Int64;
}

export interface PbKeyValue<Int64 extends Int64Out = Int64In> {
  readonly key: Uint8Array;
  readonly create_revision: Int64;
  readonly mod_revision: Int64;
  readonly version: Int64;
  readonly value: Uint8Array;
  readonly lease: Int64;
}

export type PbSortOrder = 'None' | 'Ascend' | 'Descend';
export type PbSortTarget = 'Key' | 'Version' | 'Create' | 'Mod' | 'Value';

/** Enum fields of requests may also hold a number the .proto does not name. */
export interface PbRangeRequest {
  readonly key: BytesIn;
  readonly range_end: BytesIn;
  readonly limit: Int64In;
  readonly revision: Int64In;
  readonly sort_order: PbSortOrder | number;
  readonly sort_target: PbSortTarget | number;
  readonly serializable: boolean;
  readonly keys_only: boolean;
  readonly count_only: boolean;
  readonly min_mod_revision: Int64In;
  readonly max_mod_revision: Int64In;
  readonly min_create_revision: Int64In;
  readonly max_create_revision: Int64In;
}

export interface PbRangeResponse<Int64 extends Int64Out = Int64In> {
  readonly header: PbResponseHeader<Int64>;
  readonly kvs: readonly PbKeyValue<Int64>[];
  readonly more: boolean;
  readonly count: Int64;
}

export interface PbPutRequest {
  readonly key: BytesIn;
  readonly value: BytesIn;
  readonly lease: Int64In;
  readonly prev_kv: boolean;
  readonly ignore_value: boolean;
  readonly ignore_lease: boolean;
}

/** An unset message field decodes as null (the loader's `defaults`); we leave it out when sending. */
export interface PbPutResponse<Int64 extends Int64Out = Int64In> {
  readonly header: PbResponseHeader<Int64>;
  readonly prev_kv?: PbKeyValue<Int64> | null;
}

export interface PbDeleteRangeRequest {
  readonly key: BytesIn;
  readonly range_end: BytesIn;
  readonly prev_kv: boolean;
}

export interface PbDeleteRangeResponse<Int64 extends Int64Out = Int64In> {
  readonly header: PbResponseHeader<Int64>;
  readonly deleted: Int64;
  readonly prev_kvs: readonly PbKeyValue<Int64>[];
}

/** A oneof: `request` names the member that is set (the loader's `oneofs`). */
export interface PbRequestOp {
  readonly request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn';
  readonly request_range?: PbRangeRequest;
  readonly request_put?: PbPutRequest;
  readonly request_delete_range?: PbDeleteRangeRequest;
  readonly request_txn?: PbTxnRequest;
}

/** A oneof: decoded, `response` names the member that is set; sent, only that member is given. */
export interface PbResponseOp<Int64 extends Int64Out = Int64In> {
  readonly response?: 'response_range' | 'response_put' | 'response_delete_range' | 'response_txn';
  readonly response_range?: PbRangeResponse<Int64> | null;
  readonly response_put?: PbPutResponse<Int64> | null;
  readonly response_delete_range?: PbDeleteRangeResponse<Int64> | null;
  readonly response_txn?: PbTxnResponse<Int64> | null;
}

export type PbCompareResult = 'Equal' | 'Greater' | 'Less' | 'NotEqual';
export type PbCompareTarget = 'Version' | 'Create' | 'Mod' | 'Value' | 'Lease';

export interface PbCompare {
  readonly result: PbCompareResult | number;
  readonly target: PbCompareTarget | number;
  readonly key: BytesIn;
  readonly version?: Int64In;
  readonly create_revision?: Int64In;
  readonly mod_revision?: Int64In;
  readonly value?: BytesIn;
  readonly lease?: Int64In;
  readonly range_end: BytesIn;
}

export interface PbTxnRequest {
  readonly compare: readonly PbCompare[];
  readonly success: readonly PbRequestOp[];
  readonly failure: readonly PbRequestOp[];
}

export interface PbTxnResponse<Int64 extends Int64Out = Int64In> {
  readonly header: PbResponseHeader<Int64>;
  readonly succeeded: boolean;
  readonly responses: readonly PbResponseOp<Int64>[];
}

export interface PbCompactionRequest {
  readonly revision: Int64In;
  readonly physical: boolean;
}

export type PbFilterType = 'Noput' | 'Nodelete';

export interface PbWatchCreateRequest {
  readonly key: BytesIn;
  readonly range_end: BytesIn;
  readonly start_revision: Int64In;
  readonly progress_notify: boolean;
  readonly filters: readonly (PbFilterType | number)[];
  readonly prev_kv: boolean;
  readonly watch_id: Int64In;
  readonly fragment: boolean;
}

export interface PbWatchRequest {
  readonly request_union?: 'create_request' | 'cancel_request' | 'progress_request';
  readonly create_request?: PbWatchCreateRequest;
  readonly cancel_request?: { readonly watch_id: Int64In };
  readonly progress_request?: Record<string, never>;
}

export interface PbEvent<Int64 extends Int64Out = Int64In> {
  readonly type: 'Put' | 'Delete';
  readonly kv: PbKeyValue<Int64>;
  readonly prev_kv?: PbKeyValue<Int64> | null;
}

export interface PbWatchResponse<Int64 extends Int64Out = Int64In> {
  readonly header: PbResponseHeader<Int64>;
  readonly watch_id: Int64;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compact_revision: Int64;
  readonly cancel_reason: string;
  readonly events: readonly PbEvent<Int64>[];
}

export interface PbLeaseGrantResponse<Int64 extends Int64Out = Int64In> {
  readonly header: PbResponseHeader<Int64>;
  readonly ID: Int64;
  readonly TTL: Int64;
  readonly error: string;
}

export interface PbLeaseKeepAliveResponse<Int64 extends Int64Out = Int64In> {
  readonly header: PbResponseHeader<Int64>;
  readonly ID: Int64;
  readonly TTL: Int64;
}

export interface PbLeaseTimeToLiveResponse<Int64 extends Int64Out = Int64In> {
  readonly header: PbResponseHeader<Int64>;
  readonly ID: Int64;
  readonly TTL: Int64;
  readonly grantedTTL: Int64;
  readonly keys: readonly Uint8Array[];
}

export interface PbMember {
  readonly ID: Uint64Id;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface PbStatusResponse<Int64 extends Int64Out = Int64In> {
  readonly header: PbResponseHeader<Int64>;
  readonly version: string;
  readonly dbSize: Int64;
  readonly leader: Uint64Id;
  readonly raftIndex: Int64;
  readonly raftTerm: Int64;
  readonly raftAppliedIndex: Int64;
  readonly errors: readonly string[];
  readonly dbSizeInUse: Int64;
  readonly isLearner: boolean;
}

export interface PbSnapshotResponse<Int64 extends Int64Out = Int64In> {
  readonly header: PbResponseHeader<Int64>;
  readonly remaining_bytes: Int64;
  readonly blob: Uint8Array;
}
