/**
 * etcd's v3 service clients, from the .proto loaded in src/protocol with the same options the
 * server uses; the message shapes live there too (src/protocol/messages.ts).
 */
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import {
  BLOBS_SERVICE_NAME,
  blobsProtoDefinition,
  CHAINS_SERVICE_NAME,
  chainsProtoDefinition,
  DAEMONS_SERVICE_NAME,
  daemonsProtoDefinition,
  etcdProtoDefinition,
} from '../protocol/index.js';

/** The constructor grpc-js makes for a service: one method per rpc, untyped. */
export type ServiceClientConstructor = grpc.ServiceClientConstructor;

export interface EtcdClientConstructors {
  readonly kv: ServiceClientConstructor;
  readonly watch: ServiceClientConstructor;
  readonly lease: ServiceClientConstructor;
  readonly cluster: ServiceClientConstructor;
  readonly maintenance: ServiceClientConstructor;
  readonly auth: ServiceClientConstructor;
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
      auth: service('Auth'),
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

const meshServiceClients = new Map<string, ServiceClientConstructor>();

/** The client constructor of one of MeshOS's own services, made once per process. */
function meshServiceClient(
  name: string,
  definition: protoLoader.PackageDefinition,
): ServiceClientConstructor {
  let found = meshServiceClients.get(name);
  if (found === undefined) {
    found = grpc.makeClientConstructor(definition[name] as grpc.ServiceDefinition, name);
    meshServiceClients.set(name, found);
  }
  return found;
}

/** The client constructor of MeshOS's own `meshos.v1.Chains` service. */
export function chainsClientConstructor(): ServiceClientConstructor {
  return meshServiceClient(CHAINS_SERVICE_NAME, chainsProtoDefinition());
}

/** The client constructor of MeshOS's own `meshos.v1.Daemons` service. */
export function daemonsClientConstructor(): ServiceClientConstructor {
  return meshServiceClient(DAEMONS_SERVICE_NAME, daemonsProtoDefinition());
}

/** The client constructor of MeshOS's own `meshos.v1.Blobs` service. */
export function blobsClientConstructor(): ServiceClientConstructor {
  return meshServiceClient(BLOBS_SERVICE_NAME, blobsProtoDefinition());
}
