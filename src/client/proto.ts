/**
 * etcd's v3 service clients, from the same service definitions the server uses (src/protocol);
 * the message shapes live there too (src/protocol/messages.ts).
 */
import * as grpc from '@grpc/grpc-js';
import {
  BLOBS_SERVICE_NAME,
  blobsProtoDefinition,
  CHAINS_SERVICE_NAME,
  chainsProtoDefinition,
  DAEMONS_SERVICE_NAME,
  daemonsProtoDefinition,
  type EtcdServiceKey,
  etcdProtoDefinition,
  type GrpcServices,
  mapEtcdServices,
} from '../protocol/index.js';

/** The constructor grpc-js makes for a service: one method per rpc, untyped. */
export type ServiceClientConstructor = grpc.ServiceClientConstructor;

/** The client constructor of each etcd service the client calls. */
export type EtcdClientConstructors = Readonly<Record<EtcdServiceKey, ServiceClientConstructor>>;

const serviceClients = new Map<string, ServiceClientConstructor>();

function serviceDefinition(name: string, services: GrpcServices): grpc.ServiceDefinition {
  const found = services[name];
  if (found === undefined) throw new Error(`proto: service ${name} missing`);
  return found;
}

/** The client constructor of a service (`etcdserverpb.KV`, `meshos.v1.Chains`), made once per process. */
function serviceClient(name: string, services: GrpcServices): ServiceClientConstructor {
  let found = serviceClients.get(name);
  if (found === undefined) {
    found = grpc.makeClientConstructor(serviceDefinition(name, services), name);
    serviceClients.set(name, found);
  }
  return found;
}

let loaded: EtcdClientConstructors | undefined;

function load(): EtcdClientConstructors {
  loaded ??= mapEtcdServices((definition, fullName) => grpc.makeClientConstructor(definition, fullName));
  return loaded;
}

/** Client constructors for the services the client calls, loaded once per process. */
export function etcdClientConstructors(): EtcdClientConstructors {
  return load();
}

/** The service definitions, for test servers that stand in for a node. */
export function etcdServiceDefinition(
  name: 'KV' | 'Watch' | 'Lease' | 'Cluster' | 'Maintenance',
): grpc.ServiceDefinition {
  return serviceDefinition(`etcdserverpb.${name}`, etcdProtoDefinition());
}

/** The client constructor of MeshOS's own `meshos.v1.Chains` service. */
export function chainsClientConstructor(): ServiceClientConstructor {
  return serviceClient(CHAINS_SERVICE_NAME, chainsProtoDefinition());
}

/** The client constructor of MeshOS's own `meshos.v1.Daemons` service. */
export function daemonsClientConstructor(): ServiceClientConstructor {
  return serviceClient(DAEMONS_SERVICE_NAME, daemonsProtoDefinition());
}

/** The client constructor of MeshOS's own `meshos.v1.Blobs` service. */
export function blobsClientConstructor(): ServiceClientConstructor {
  return serviceClient(BLOBS_SERVICE_NAME, blobsProtoDefinition());
}
