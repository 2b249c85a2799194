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
  type EtcdServiceKey,
  mapEtcdServices,
} from '../protocol/index.js';

/** The definition of each of the six etcd services. */
export type EtcdServices = Readonly<Record<EtcdServiceKey, grpc.ServiceDefinition>>;

let loaded: EtcdServices | undefined;

/** The six etcd services, loaded once per process. */
export function etcdServices(): EtcdServices {
  loaded ??= mapEtcdServices((definition) => definition);
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
