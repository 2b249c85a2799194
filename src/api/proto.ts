/**
 * etcd's v3 protobuf definitions, loaded from the copy shipped with the `etcd3` package, and the
 * shapes of the decoded messages this layer reads and writes. Loader options: field names as in
 * the .proto files, 64-bit integers as decimal strings (exact for every value, unlike numbers),
 * enums as their names, defaults filled in, and a discriminator naming the set member of a oneof.
 */
import type * as grpc from '@grpc/grpc-js';
import { etcdProtoDefinition } from '../protocol/index.js';

/** 64-bit integers arrive as decimal strings; we send numbers (safe integers) or decimal strings. */
export type Int64In = string;
export type Int64Out = number | string;
/** Bytes arrive as Buffers (a Uint8Array subclass). */
export type BytesIn = Uint8Array;

export interface EtcdServices {
  readonly kv: grpc.ServiceDefinition;
  readonly watch: grpc.ServiceDefinition;
  readonly lease: grpc.ServiceDefinition;
  readonly cluster: grpc.ServiceDefinition;
  readonly maintenance: grpc.ServiceDefinition;
  readonly auth: grpc.ServiceDefinition;
}

let loaded: EtcdServices | undefined;

/** The six etcd services, loaded once per process. */
export function etcdServices(): EtcdServices {
  if (loaded !== undefined) return loaded;
  const { path: protoPath, definition } = etcdProtoDefinition();
  const service = (name: string): grpc.ServiceDefinition => {
    const found = definition[`etcdserverpb.${name}`];
    if (found === undefined || 'format' in found) {
      throw new Error(`etcd proto: service ${name} missing from ${protoPath}`);
    }
    return found as grpc.ServiceDefinition;
  };
  loaded = {
    kv: service('KV'),
    watch: service('Watch'),
    lease: service('Lease'),
    cluster: service('Cluster'),
    maintenance: service('Maintenance'),
    auth: service('Auth'),
  };
  return loaded;
}

export interface PbResponseHeader {
  readonly cluster_id: string;
  readonly member_id: string;
  readonly revision: Int64Out;
  readonly raft_term: Int64Out;
}

export interface PbKeyValue {
  readonly key: Uint8Array;
  readonly create_revision: Int64Out;
  readonly mod_revision: Int64Out;
  readonly version: Int64Out;
  readonly value: Uint8Array;
  readonly lease: Int64Out;
}

export type PbSortOrder = 'None' | 'Ascend' | 'Descend';
export type PbSortTarget = 'Key' | 'Version' | 'Create' | 'Mod' | 'Value';

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

export interface PbRangeResponse {
  readonly header: PbResponseHeader;
  readonly kvs: readonly PbKeyValue[];
  readonly more: boolean;
  readonly count: Int64Out;
}

export interface PbPutRequest {
  readonly key: BytesIn;
  readonly value: BytesIn;
  readonly lease: Int64In;
  readonly prev_kv: boolean;
  readonly ignore_value: boolean;
  readonly ignore_lease: boolean;
}

export interface PbPutResponse {
  readonly header: PbResponseHeader;
  readonly prev_kv?: PbKeyValue;
}

export interface PbDeleteRangeRequest {
  readonly key: BytesIn;
  readonly range_end: BytesIn;
  readonly prev_kv: boolean;
}

export interface PbDeleteRangeResponse {
  readonly header: PbResponseHeader;
  readonly deleted: Int64Out;
  readonly prev_kvs: readonly PbKeyValue[];
}

export interface PbRequestOp {
  readonly request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn';
  readonly request_range?: PbRangeRequest;
  readonly request_put?: PbPutRequest;
  readonly request_delete_range?: PbDeleteRangeRequest;
  readonly request_txn?: PbTxnRequest;
}

export type PbResponseOp =
  | { readonly response_range: PbRangeResponse }
  | { readonly response_put: PbPutResponse }
  | { readonly response_delete_range: PbDeleteRangeResponse }
  | { readonly response_txn: PbTxnResponse };

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

export interface PbTxnResponse {
  readonly header: PbResponseHeader;
  readonly succeeded: boolean;
  readonly responses: readonly PbResponseOp[];
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

export interface PbEvent {
  readonly type: 'Put' | 'Delete';
  readonly kv: PbKeyValue;
  readonly prev_kv?: PbKeyValue;
}

export interface PbWatchResponse {
  readonly header: PbResponseHeader;
  readonly watch_id: Int64Out;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compact_revision: Int64Out;
  readonly cancel_reason: string;
  readonly events: readonly PbEvent[];
}

export interface PbMember {
  readonly ID: string;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface PbStatusResponse {
  readonly header: PbResponseHeader;
  readonly version: string;
  readonly dbSize: Int64Out;
  readonly leader: string;
  readonly raftIndex: Int64Out;
  readonly raftTerm: Int64Out;
  readonly raftAppliedIndex: Int64Out;
  readonly errors: readonly string[];
  readonly dbSizeInUse: Int64Out;
  readonly isLearner: boolean;
}
