/**
 * etcd's v3 protobuf definitions, loaded from the copy shipped with the `etcd3` package with the
 * same options the server uses: field names as written, 64-bit integers as decimal strings, enums as
 * names, defaults filled in, and a discriminator naming the set member of a oneof.
 */
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { etcdProtoDefinition } from '../protocol/index.js';

/** The constructor grpc-js makes for a service: one method per rpc, untyped. */
export type ServiceClientConstructor = grpc.ServiceClientConstructor;

export interface EtcdClientConstructors {
  readonly kv: ServiceClientConstructor;
  readonly watch: ServiceClientConstructor;
  readonly lease: ServiceClientConstructor;
  readonly cluster: ServiceClientConstructor;
  readonly maintenance: ServiceClientConstructor;
}

let loaded: { definition: protoLoader.PackageDefinition; clients: EtcdClientConstructors } | undefined;

function load(): { definition: protoLoader.PackageDefinition; clients: EtcdClientConstructors } {
  if (loaded !== undefined) return loaded;
  const { path: protoPath, definition } = etcdProtoDefinition();
  const root = grpc.loadPackageDefinition(definition);
  const service = (name: string): ServiceClientConstructor => {
    const found = (root.etcdserverpb as grpc.GrpcObject | undefined)?.[name];
    if (typeof found !== 'function') throw new Error(`etcd proto: service ${name} missing from ${protoPath}`);
    return found as ServiceClientConstructor;
  };
  loaded = {
    definition,
    clients: {
      kv: service('KV'),
      watch: service('Watch'),
      lease: service('Lease'),
      cluster: service('Cluster'),
      maintenance: service('Maintenance'),
    },
  };
  return loaded;
}

/** Client constructors for the services the client calls, loaded once per process. */
export function etcdClientConstructors(): EtcdClientConstructors {
  return load().clients;
}

/** The service definitions, for test servers that stand in for a node. */
export function etcdServiceDefinition(
  name: 'KV' | 'Watch' | 'Lease' | 'Cluster' | 'Maintenance',
): grpc.ServiceDefinition {
  const found = load().definition[`etcdserverpb.${name}`];
  if (found === undefined || 'format' in found) throw new Error(`etcd proto: service ${name} missing`);
  return found as grpc.ServiceDefinition;
}

/** 64-bit integers arrive as decimal strings. */
export type Int64 = string;

export interface PbHeader {
  readonly cluster_id: Int64;
  readonly member_id: Int64;
  readonly revision: Int64;
  readonly raft_term: Int64;
}

export interface PbKeyValue {
  readonly key: Uint8Array;
  readonly create_revision: Int64;
  readonly mod_revision: Int64;
  readonly version: Int64;
  readonly value: Uint8Array;
  readonly lease: Int64;
}

export interface PbRangeResponse {
  readonly header: PbHeader;
  readonly kvs: readonly PbKeyValue[];
  readonly more: boolean;
  readonly count: Int64;
}

export interface PbPutResponse {
  readonly header: PbHeader;
  readonly prev_kv?: PbKeyValue | null;
}

export interface PbDeleteRangeResponse {
  readonly header: PbHeader;
  readonly deleted: Int64;
  readonly prev_kvs: readonly PbKeyValue[];
}

export interface PbResponseOp {
  readonly response?: 'response_range' | 'response_put' | 'response_delete_range' | 'response_txn';
  readonly response_range?: PbRangeResponse | null;
  readonly response_put?: PbPutResponse | null;
  readonly response_delete_range?: PbDeleteRangeResponse | null;
  readonly response_txn?: PbTxnResponse | null;
}

export interface PbTxnResponse {
  readonly header: PbHeader;
  readonly succeeded: boolean;
  readonly responses: readonly PbResponseOp[];
}

export interface PbEvent {
  readonly type: 'Put' | 'Delete';
  readonly kv: PbKeyValue;
  readonly prev_kv?: PbKeyValue | null;
}

export interface PbWatchResponse {
  readonly header: PbHeader;
  readonly watch_id: Int64;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compact_revision: Int64;
  readonly cancel_reason: string;
  readonly events: readonly PbEvent[];
}

export interface PbMember {
  readonly ID: Int64;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface PbStatusResponse {
  readonly header: PbHeader;
  readonly version: string;
  readonly dbSize: Int64;
  readonly leader: Int64;
  readonly raftIndex: Int64;
  readonly raftTerm: Int64;
  readonly raftAppliedIndex: Int64;
  readonly errors: readonly string[];
  readonly dbSizeInUse: Int64;
  readonly isLearner: boolean;
}

export interface PbLeaseGrantResponse {
  readonly header: PbHeader;
  readonly ID: Int64;
  readonly TTL: Int64;
  readonly error: string;
}

export interface PbLeaseKeepAliveResponse {
  readonly header: PbHeader;
  readonly ID: Int64;
  readonly TTL: Int64;
}

export interface PbLeaseTimeToLiveResponse {
  readonly header: PbHeader;
  readonly ID: Int64;
  readonly TTL: Int64;
  readonly grantedTTL: Int64;
  readonly keys: readonly Uint8Array[];
}

export interface PbSnapshotResponse {
  readonly header: PbHeader;
  readonly remaining_bytes: Int64;
  readonly blob: Uint8Array;
}
