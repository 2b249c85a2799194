import { ETCD_RPC_DESCRIPTOR } from './etcd-rpc-descriptor.js';
import { type GrpcServices, lazyServices } from './grpc-services.js';

const loadEtcd = lazyServices(ETCD_RPC_DESCRIPTOR);

/**
 * etcd's v3 services (`etcdserverpb.KV`, `etcdserverpb.Watch`, ...), the same for the server and
 * the client, made once per process from the prebuilt descriptor of etcd's rpc.proto.
 */
export function etcdProtoDefinition(): GrpcServices {
  return loadEtcd();
}
