/**
 * `meshos.v1.Chains`, MeshOS's own gRPC service for replicated chains, served on the client port
 * beside etcd's services. The definition is written here as a protobuf JSON descriptor (the form
 * protobufjs reads) rather than a .proto file, so the built package needs no data files; it is
 * loaded with the same loader options as etcd's (64-bit integers as decimal strings, enums as
 * their names, defaults filled in). The same schema as .proto text is in docs/CHAINS.md.
 */
import * as protoLoader from '@grpc/proto-loader';
import { ETCD_PROTO_LOADER_OPTIONS } from './etcd-proto.js';

type FieldRule = 'repeated';
interface Field {
  readonly type: string;
  readonly id: number;
  readonly rule?: FieldRule;
}

function message(fields: Record<string, Field>): { fields: Record<string, Field> } {
  return { fields };
}

const string = (id: number): Field => ({ type: 'string', id });
const uint64 = (id: number): Field => ({ type: 'uint64', id });
const uint32 = (id: number): Field => ({ type: 'uint32', id });
const repeated = (type: string, id: number): Field => ({ type, id, rule: 'repeated' });
const rpc = (requestType: string, responseType: string, responseStream = false) => ({
  requestType,
  responseType,
  responseStream,
  comment: '',
});

const RECORD_FIELDS = {
  offset: uint64(1),
  epoch: uint64(2),
  appended_at_ms: uint64(3),
  payload: { type: 'bytes', id: 4 },
};

/** protobufjs's JSON descriptor form, as `fromJSON` takes it. */
type Descriptor = Parameters<typeof protoLoader.fromJSON>[0];

const CHAINS_DESCRIPTOR: Descriptor = {
  nested: {
    meshos: {
      nested: {
        v1: {
          nested: {
            Acks: { values: { ACKS_UNSPECIFIED: 0, ACKS_ONE: 1, ACKS_QUORUM: 2, ACKS_ALL: 3 } },
            SyncMode: { values: { SYNC_UNSPECIFIED: 0, SYNC_BATCH: 1, SYNC_INTERVAL: 2 } },
            CreateChainRequest: message({
              name: string(1),
              replicas: uint32(2),
              acks: { type: 'Acks', id: 3 },
              sync_mode: { type: 'SyncMode', id: 4 },
              sync_interval_ms: uint64(5),
              retention_max_bytes: uint64(6),
              retention_max_age_ms: uint64(7),
              max_record_bytes: uint32(8),
            }),
            ChainReplica: message({
              node: uint64(1),
              offset: uint64(2),
              lag: uint64(3),
              healthy: { type: 'bool', id: 4 },
            }),
            ChainStatus: message({
              name: string(1),
              epoch: uint64(2),
              leader: uint64(3),
              acks: { type: 'Acks', id: 4 },
              replicas: repeated('ChainReplica', 5),
              learners: repeated('ChainReplica', 6),
              commit_offset: uint64(7),
              start_offset: uint64(8),
            }),
            ChainName: message({ name: string(1) }),
            DeleteChainResponse: message({}),
            AppendRequest: message({ name: string(1), payloads: repeated('bytes', 2) }),
            AppendResponse: message({ epoch: uint64(1), first_offset: uint64(2), last_offset: uint64(3) }),
            ReadRequest: message({
              name: string(1),
              from_offset: uint64(2),
              limit: uint32(3),
              max_bytes: uint32(4),
            }),
            Record: message(RECORD_FIELDS),
            ReadResponse: message({
              records: repeated('Record', 1),
              next_offset: uint64(2),
              commit_offset: uint64(3),
            }),
            SubscribeRequest: message({ name: string(1), from_offset: uint64(2) }),
            SubscribeResponse: message({ records: repeated('Record', 1) }),
            ListChainsRequest: message({}),
            ChainSummary: message({
              name: string(1),
              epoch: uint64(2),
              leader: uint64(3),
              acks: { type: 'Acks', id: 4 },
              replicas: repeated('uint64', 5),
            }),
            ListChainsResponse: message({ chains: repeated('ChainSummary', 1) }),
            Chains: {
              methods: {
                Create: rpc('CreateChainRequest', 'ChainStatus'),
                Delete: rpc('ChainName', 'DeleteChainResponse'),
                Append: rpc('AppendRequest', 'AppendResponse'),
                Read: rpc('ReadRequest', 'ReadResponse'),
                Subscribe: rpc('SubscribeRequest', 'SubscribeResponse', true),
                Status: rpc('ChainName', 'ChainStatus'),
                List: rpc('ListChainsRequest', 'ListChainsResponse'),
              },
            },
          },
        },
      },
    },
  },
};

/** The service's full name in the package definition (and on the wire: `/meshos.v1.Chains/Append`). */
export const CHAINS_SERVICE_NAME = 'meshos.v1.Chains';

let loaded: protoLoader.PackageDefinition | undefined;

/** The Chains service's package definition, loaded once per process. */
export function chainsProtoDefinition(): protoLoader.PackageDefinition {
  loaded ??= protoLoader.fromJSON(CHAINS_DESCRIPTOR, ETCD_PROTO_LOADER_OPTIONS);
  return loaded;
}
