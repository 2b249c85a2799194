/**
 * Requests and results of the key-value state machine, shaped after etcd's v3 API so the gRPC layer
 * maps them field by field. Keys and values are bytes; revisions and lease ids are safe integers.
 */
import type { NodeId } from '../lib/index.js';
import type { KvError } from './errors.js';

export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** Revision of the put that created the key in its current life (0 if absent). */
  readonly createRevision: number;
  /** Revision of the last change to the key. */
  readonly modRevision: number;
  /** Puts since the key was created; reset to 0 by a delete. */
  readonly version: number;
  /** Attached lease id, 0 for none. */
  readonly lease: number;
}

export type SortOrder = 'none' | 'ascend' | 'descend';
export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';

export interface RangeRequest {
  readonly type: 'range';
  readonly key: Uint8Array;
  /** End of the half-open range [key, rangeEnd); "\0" means every key >= key. */
  readonly rangeEnd?: Uint8Array;
  /** Select every key starting with `key` (the range end is computed); excludes `rangeEnd`. */
  readonly prefix?: boolean;
  /** Most keys returned; 0 for no limit. */
  readonly limit?: number;
  /** Read at this revision; 0 for the current one. */
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  /** Carried for the server (local read without ReadIndex); the state machine ignores it. */
  readonly serializable?: boolean;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

export interface PutRequest {
  readonly type: 'put';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly lease?: number;
  readonly prevKv?: boolean;
  /** Keep the current value; the key must exist and `value` must be empty. */
  readonly ignoreValue?: boolean;
  /** Keep the current lease; the key must exist and `lease` must be 0. */
  readonly ignoreLease?: boolean;
}

export interface DeleteRangeRequest {
  readonly type: 'deleteRange';
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly prefix?: boolean;
  readonly prevKv?: boolean;
}

export type CompareTarget = 'value' | 'version' | 'create' | 'mod' | 'lease';
export type CompareResult = 'equal' | 'notEqual' | 'less' | 'greater';

export interface Compare {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly target: CompareTarget;
  readonly result: CompareResult;
  /** Operand for the 'value' target. */
  readonly value?: Uint8Array;
  /** Operand for every other target (revision, version or lease id). */
  readonly number?: number;
}

export type RequestOp = RangeRequest | PutRequest | DeleteRangeRequest | TxnRequest;

export interface TxnRequest {
  readonly type: 'txn';
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

export interface CompactRequest {
  readonly type: 'compact';
  readonly revision: number;
  /** Carried for the server (wait until compaction is durable); no effect on the state. */
  readonly physical?: boolean;
}

export interface LeaseGrantRequest {
  readonly type: 'leaseGrant';
  /** Requested id, 0 to let the state machine choose one. */
  readonly id: number;
  readonly ttlSeconds: number;
}

export interface LeaseRevokeRequest {
  readonly type: 'leaseRevoke';
  readonly id: number;
}

/** The alarms a member can raise; NOSPACE is raised when the space quota is exceeded. */
export type AlarmType = 'NOSPACE';

export interface AlarmMember {
  readonly memberId: NodeId;
  readonly alarm: AlarmType;
}

/** Raises or clears one member's alarm; the state machine keeps the set of raised alarms. */
export interface AlarmRequest {
  readonly type: 'alarm';
  readonly action: 'activate' | 'deactivate';
  readonly memberId: NodeId;
  readonly alarm: AlarmType;
}

/** Everything that goes through the log. */
export type KvCommand =
  | RangeRequest
  | PutRequest
  | DeleteRangeRequest
  | TxnRequest
  | CompactRequest
  | LeaseGrantRequest
  | LeaseRevokeRequest
  | AlarmRequest;

export interface ResponseHeader {
  /** The store's revision after the request was applied. */
  readonly revision: number;
}

export interface RangeResponse {
  readonly type: 'range';
  readonly header: ResponseHeader;
  readonly kvs: readonly KeyValue[];
  /** More keys matched than the limit allowed. */
  readonly more: boolean;
  /** Keys in the range (before limit and revision filters). */
  readonly count: number;
}

export interface PutResponse {
  readonly type: 'put';
  readonly header: ResponseHeader;
  readonly prevKv?: KeyValue;
}

export interface DeleteRangeResponse {
  readonly type: 'deleteRange';
  readonly header: ResponseHeader;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

export type ResponseOp = RangeResponse | PutResponse | DeleteRangeResponse | TxnResponse;

export interface TxnResponse {
  readonly type: 'txn';
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}

export interface CompactResponse {
  readonly type: 'compact';
  readonly header: ResponseHeader;
}

export interface LeaseGrantResponse {
  readonly type: 'leaseGrant';
  readonly header: ResponseHeader;
  readonly id: number;
  readonly ttlSeconds: number;
}

export interface LeaseRevokeResponse {
  readonly type: 'leaseRevoke';
  readonly header: ResponseHeader;
}

/** The alarms raised after an alarm command, ordered by member id. */
export interface AlarmResponse {
  readonly type: 'alarm';
  readonly header: ResponseHeader;
  readonly alarms: readonly AlarmMember[];
}

/** A command that failed; the state is unchanged by it. */
export interface ErrorResponse {
  readonly type: 'error';
  readonly header: ResponseHeader;
  readonly error: KvError;
}

export type KvResult =
  | RangeResponse
  | PutResponse
  | DeleteRangeResponse
  | TxnResponse
  | CompactResponse
  | LeaseGrantResponse
  | LeaseRevokeResponse
  | AlarmResponse
  | ErrorResponse;

export interface LeaseTimeToLive {
  readonly id: number;
  readonly grantedTtlSeconds: number;
  /** Keys attached to the lease, in key order (only when asked for). */
  readonly keys: readonly Uint8Array[];
}

export interface LeaseStatus {
  readonly id: number;
  readonly ttlSeconds: number;
}
