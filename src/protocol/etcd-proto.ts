import { createRequire } from 'node:module';
import * as protoLoader from '@grpc/proto-loader';

/**
 * How etcd's v3 protobuf definitions are loaded, the same for the server and the client:
 * field names as written, 64-bit integers as decimal strings (exact for every value),
 * enums as their names (`Value`, `Equal`, ... as spelled in the shipped .proto), defaults
 * filled in, and a discriminator naming the set member of a oneof.
 */
export const ETCD_PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let loaded: { path: string; definition: protoLoader.PackageDefinition } | undefined;

/** etcd's rpc.proto from the copy the `etcd3` package ships, loaded once per process. */
export function etcdProtoDefinition(): { path: string; definition: protoLoader.PackageDefinition } {
  if (loaded !== undefined) return loaded;
  const protoPath = createRequire(import.meta.url).resolve('etcd3/proto/rpc.proto');
  loaded = { path: protoPath, definition: protoLoader.loadSync(protoPath, ETCD_PROTO_LOADER_OPTIONS) };
  return loaded;
}
