/** The client's public shapes: keys and values are bytes (strings are taken as UTF-8). */

/** A key or value as callers pass it; a string is encoded as UTF-8. */
export type Bytes = string | Uint8Array;

export interface ResponseHeader {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  /** The store's revision when the request was served. */
  readonly revision: number;
  readonly raftTerm: number;
}

export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** Attached lease id, 0 for none. */
  readonly lease: number;
}

export type SortOrder = 'none' | 'ascend' | 'descend';
export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';

export interface RangeOptions {
  /** Every key starting with `key`. */
  readonly prefix?: boolean;
  /** End of the half-open range [key, rangeEnd); "\0" means every key >= key. Not with `prefix`. */
  readonly rangeEnd?: Bytes;
  /** Read at this revision; 0 or unset for the current one. */
  readonly revision?: number;
  /** Served from the contacted node's state without a leader round (may be stale). */
  readonly serializable?: boolean;
  /** Most keys returned; 0 or unset for no limit. */
  readonly limit?: number;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
}

export interface RangeResult {
  readonly header: ResponseHeader;
  readonly kvs: readonly KeyValue[];
  /** More keys matched than `limit` let through. */
  readonly more: boolean;
  readonly count: number;
}

export interface PutOptions {
  /** Lease to attach the key to; 0 or unset for none. */
  readonly lease?: number;
  /** Answer the key's previous state. */
  readonly prevKv?: boolean;
}

export interface PutResult {
  readonly header: ResponseHeader;
  readonly prevKv: KeyValue | undefined;
}

export interface DeleteOptions {
  readonly prefix?: boolean;
  readonly rangeEnd?: Bytes;
  readonly prevKv?: boolean;
}

export interface DeleteResult {
  readonly header: ResponseHeader;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

/** One operation of a transaction branch. */
export type TxnOp =
  | { readonly type: 'range'; readonly key: Bytes; readonly options?: RangeOptions }
  | { readonly type: 'put'; readonly key: Bytes; readonly value: Bytes; readonly options?: PutOptions }
  | { readonly type: 'delete'; readonly key: Bytes; readonly options?: DeleteOptions };

export type CompareTarget = 'value' | 'version' | 'create' | 'mod' | 'lease';
export type CompareOperator = '=' | '!=' | '<' | '>';

export interface TxnCompare {
  readonly key: Bytes;
  readonly target: CompareTarget;
  readonly operator: CompareOperator;
  /** Bytes for the 'value' target; a number (revision, version or lease id) for the others. */
  readonly operand: Bytes | number;
  /** Compare every key in [key, rangeEnd) instead of one key. */
  readonly rangeEnd?: Bytes;
}

export interface TxnRequest {
  readonly compare: readonly TxnCompare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
}

export type TxnOpResult =
  | ({ readonly type: 'range' } & RangeResult)
  | ({ readonly type: 'put' } & PutResult)
  | ({ readonly type: 'delete' } & DeleteResult)
  | ({ readonly type: 'txn' } & TxnResult);

export interface TxnResult {
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  readonly responses: readonly TxnOpResult[];
}

export interface WatchOptions {
  readonly prefix?: boolean;
  readonly rangeEnd?: Bytes;
  /** First revision to report; unset for changes after the watch is created. */
  readonly startRevision?: number;
  /** Include each key's previous state in its events. */
  readonly prevKv?: boolean;
  readonly noPut?: boolean;
  readonly noDelete?: boolean;
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  readonly prevKv: KeyValue | undefined;
}

export interface LeaseGrantResult {
  readonly header: ResponseHeader;
  readonly id: number;
  readonly ttlSeconds: number;
}

export interface LeaseTimeToLiveResult {
  readonly header: ResponseHeader;
  readonly id: number;
  /** Seconds left; -1 when the lease does not exist. */
  readonly ttlSeconds: number;
  readonly grantedTtlSeconds: number;
  readonly keys: readonly Uint8Array[];
}

export interface Member {
  readonly id: bigint;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

export interface MemberAddResult {
  readonly member: Member;
  readonly members: readonly Member[];
}

export interface EndpointStatus {
  /** The endpoint that answered (host:port). */
  readonly endpoint: string;
  readonly header: ResponseHeader;
  readonly memberId: bigint;
  /** 0 when the node knows no leader. */
  readonly leaderId: bigint;
  readonly version: string;
  readonly dbSizeBytes: number;
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  readonly revision: number;
  readonly isLearner: boolean;
  readonly errors: readonly string[];
}

export interface SnapshotOptions {
  /** Called as chunks arrive, with bytes received so far and the total announced by the node. */
  readonly onProgress?: (receivedBytes: number, totalBytes: number) => void;
  readonly timeoutMs?: number;
}

/** Per-call options every method takes. */
export interface CallOptions {
  /** Budget of the whole call, retries included. */
  readonly timeoutMs?: number;
}
