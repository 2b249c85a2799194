/**
 * `meshos.v1.Chains`, MeshOS's own gRPC service for replicated chains, served on the client port
 * beside etcd's services; written as a JSON descriptor (see proto-descriptor.ts). The same schema
 * as .proto text is in docs/CHAINS.md.
 */
import { type GrpcServices, lazyServices } from './grpc-services.js';
import {
  ACKS_ENUM,
  bool,
  bytes,
  field,
  meshosV1,
  message,
  repeated,
  rpc,
  string,
  uint32,
  uint64,
} from './proto-descriptor.js';

const RECORD_FIELDS = {
  offset: uint64(1),
  epoch: uint64(2),
  appended_at_ms: uint64(3),
  payload: bytes(4),
};

/** The service's descriptor (test/fuzz reads its message types). */
export const CHAINS_DESCRIPTOR = meshosV1({
  Acks: ACKS_ENUM,
  SyncMode: { values: { SYNC_UNSPECIFIED: 0, SYNC_BATCH: 1, SYNC_INTERVAL: 2 } },
  CreateChainRequest: message({
    name: string(1),
    replicas: uint32(2),
    acks: field('Acks', 3),
    sync_mode: field('SyncMode', 4),
    sync_interval_ms: uint64(5),
    retention_max_bytes: uint64(6),
    retention_max_age_ms: uint64(7),
    max_record_bytes: uint32(8),
  }),
  ChainReplica: message({ node: uint64(1), offset: uint64(2), lag: uint64(3), healthy: bool(4) }),
  ChainStatus: message({
    name: string(1),
    epoch: uint64(2),
    leader: uint64(3),
    acks: field('Acks', 4),
    replicas: repeated('ChainReplica', 5),
    learners: repeated('ChainReplica', 6),
    commit_offset: uint64(7),
    start_offset: uint64(8),
    epoch_start_offset: uint64(9),
    leader_view: bool(10),
  }),
  ChainName: message({ name: string(1) }),
  DeleteChainResponse: message({}),
  AppendRequest: message({ name: string(1), payloads: repeated('bytes', 2) }),
  AppendResponse: message({ epoch: uint64(1), first_offset: uint64(2), last_offset: uint64(3) }),
  AppendStreamRequest: message({
    request_id: uint64(1),
    name: string(2),
    payloads: repeated('bytes', 3),
    timeout_ms: uint32(4),
  }),
  AppendFailure: message({ code: string(1), message: string(2), details_json: string(3), status: uint32(4) }),
  AppendStreamResponse: message({
    request_id: uint64(1),
    epoch: uint64(2),
    first_offset: uint64(3),
    last_offset: uint64(4),
    failure: field('AppendFailure', 5),
  }),
  ReadRequest: message({ name: string(1), from_offset: uint64(2), limit: uint32(3), max_bytes: uint32(4) }),
  Record: message(RECORD_FIELDS),
  ReadResponse: message({ records: repeated('Record', 1), next_offset: uint64(2), commit_offset: uint64(3) }),
  SubscribeRequest: message({ name: string(1), from_offset: uint64(2) }),
  SubscribeResponse: message({ records: repeated('Record', 1) }),
  ListChainsRequest: message({}),
  ChainSummary: message({
    name: string(1),
    epoch: uint64(2),
    leader: uint64(3),
    acks: field('Acks', 4),
    replicas: repeated('uint64', 5),
  }),
  ListChainsResponse: message({ chains: repeated('ChainSummary', 1) }),
  Chains: {
    methods: {
      Create: rpc('CreateChainRequest', 'ChainStatus'),
      Delete: rpc('ChainName', 'DeleteChainResponse'),
      Append: rpc('AppendRequest', 'AppendResponse'),
      AppendStream: rpc('AppendStreamRequest', 'AppendStreamResponse', true, true),
      Read: rpc('ReadRequest', 'ReadResponse'),
      Subscribe: rpc('SubscribeRequest', 'SubscribeResponse', true),
      Status: rpc('ChainName', 'ChainStatus'),
      List: rpc('ListChainsRequest', 'ListChainsResponse'),
    },
  },
});

/** The service's full name in the package definition (and on the wire: `/meshos.v1.Chains/Append`). */
export const CHAINS_SERVICE_NAME = 'meshos.v1.Chains';

const loadChains = lazyServices(CHAINS_DESCRIPTOR);

/** The Chains service's package definition, loaded once per process. */
export function chainsProtoDefinition(): GrpcServices {
  return loadChains();
}
