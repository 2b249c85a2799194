export { ETCD_PROTO_LOADER_OPTIONS, etcdProtoDefinition } from './etcd-proto.js';
