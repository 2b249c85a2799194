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

/** The six etcd services by the name the server and client use for each. */
const ETCD_SERVICE_NAMES = {
  kv: 'etcdserverpb.KV',
  watch: 'etcdserverpb.Watch',
  lease: 'etcdserverpb.Lease',
  cluster: 'etcdserverpb.Cluster',
  maintenance: 'etcdserverpb.Maintenance',
  auth: 'etcdserverpb.Auth',
} as const;

export type EtcdServiceKey = keyof typeof ETCD_SERVICE_NAMES;

/** `make` applied to each etcd service's definition (and full name), keyed as the server and client name them. */
export function mapEtcdServices<T>(
  make: (definition: GrpcServices[string], fullName: string) => T,
): Record<EtcdServiceKey, T> {
  const services = loadEtcd();
  const entries = Object.entries(ETCD_SERVICE_NAMES).map(([key, fullName]) => {
    const definition = services[fullName];
    if (definition === undefined) throw new Error(`etcd proto: service ${fullName} missing`);
    return [key, make(definition, fullName)];
  });
  return Object.fromEntries(entries) as Record<EtcdServiceKey, T>;
}
