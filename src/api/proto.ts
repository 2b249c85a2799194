/**
 * etcd's v3 service definitions for the server, from the descriptor loaded in src/protocol; the
 * message shapes live there too (src/protocol/messages.ts).
 */
import type * as grpc from '@grpc/grpc-js';
import {
  BLOBS_SERVICE_NAME,
  blobsProtoDefinition,
  CHAINS_SERVICE_NAME,
  chainsProtoDefinition,
  DAEMONS_SERVICE_NAME,
  daemonsProtoDefinition,
  etcdProtoDefinition,
} from '../protocol/index.js';

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
  const definition = etcdProtoDefinition();
  const service = (name: string): grpc.ServiceDefinition => {
    const found = definition[`etcdserverpb.${name}`];
    if (found === undefined) throw new Error(`etcd proto: service ${name} missing`);
    return found;
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

/** MeshOS's own `meshos.v1.Chains` service (src/protocol/chains-proto.ts). */
export function chainsServiceDefinition(): grpc.ServiceDefinition {
  const found = chainsProtoDefinition()[CHAINS_SERVICE_NAME];
  if (found === undefined) throw new Error(`proto: service ${CHAINS_SERVICE_NAME} missing`);
  return found;
}

/** MeshOS's own `meshos.v1.Blobs` service (src/protocol/blobs-proto.ts). */
export function blobsServiceDefinition(): grpc.ServiceDefinition {
  const found = blobsProtoDefinition()[BLOBS_SERVICE_NAME];
  if (found === undefined) throw new Error(`proto: service ${BLOBS_SERVICE_NAME} missing`);
  return found;
}

/** MeshOS's own `meshos.v1.Daemons` service (src/protocol/daemons-proto.ts). */
export function daemonsServiceDefinition(): grpc.ServiceDefinition {
  const found = daemonsProtoDefinition()[DAEMONS_SERVICE_NAME];
  if (found === undefined) throw new Error(`proto: service ${DAEMONS_SERVICE_NAME} missing`);
  return found;
}
