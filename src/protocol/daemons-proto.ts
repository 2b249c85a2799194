/**
 * `meshos.v1.Daemons`, MeshOS's gRPC service for daemons on the cluster, served on the client
 * port beside etcd's services and `meshos.v1.Chains`; written as a JSON descriptor (see
 * proto-descriptor.ts). The same schema as .proto text is in docs/DAEMONS.md.
 *
 * Optional numbers travel as a one-field message (`MemberIndex`), absent (null) when not set,
 * because a bare uint32 cannot tell 0 from unset.
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

/** The service's descriptor (test/fuzz reads its message types). */
export const DAEMONS_DESCRIPTOR = meshosV1({
  Acks: ACKS_ENUM,
  DaemonGroup: {
    values: { GROUP_UNSPECIFIED: 0, GROUP_SINGLE: 1, GROUP_STANDBY: 2, GROUP_REPLICA: 3, GROUP_FORK: 4 },
  },
  StandbyMode: { values: { STANDBY_MODE_UNSPECIFIED: 0, STANDBY_HOT: 1, STANDBY_WARM: 2 } },
  MemberRole: { values: { ROLE_UNSPECIFIED: 0, ROLE_ACTIVE: 1, ROLE_STANDBY: 2, ROLE_REPLICA: 3 } },
  MemberIndex: message({ index: uint32(1) }),
  MemberCount: message({ count: uint32(1) }),
  InboundOffset: message({ offset: uint64(1) }),
  /** A fork group's parent and fork point; in a deploy, no offset: the parent's commit offset. */
  ForkPoint: message({ parent: string(1), inbound_offset: field('InboundOffset', 2) }),
  DeployRequest: message({
    name: string(1),
    kind: string(2),
    group: field('DaemonGroup', 3),
    members: uint32(4),
    /** The deploy's config as JSON text; empty: none. */
    config_json: string(5),
    standby_mode: field('StandbyMode', 6),
    acks: field('Acks', 7),
    fork_of: field('ForkPoint', 8),
  }),
  MemberStatus: message({
    index: uint32(1),
    node: uint64(2),
    role: field('MemberRole', 3),
    synced_through: field('int64', 4),
    healthy: bool(5),
  }),
  DaemonStatus: message({
    name: string(1),
    kind: string(2),
    group: field('DaemonGroup', 3),
    epoch: uint64(4),
    members: repeated('MemberStatus', 5),
    inbound_through: uint64(6),
    /** The count an operator asked for (`meshos daemon scale`); absent: none. */
    desired_members: field('MemberCount', 7),
  }),
  DaemonName: message({ name: string(1) }),
  MemberPlacement: message({ index: uint32(1), node: uint64(2) }),
  DaemonDefinition: message({
    name: string(1),
    kind: string(2),
    group: field('DaemonGroup', 3),
    config_json: string(4),
    members: repeated('MemberPlacement', 5),
    active: field('MemberIndex', 6),
    standby_mode: field('StandbyMode', 7),
    acks: field('Acks', 8),
    epoch: uint64(9),
    created_at_ms: uint64(10),
    fork_of: field('ForkPoint', 11),
  }),
  ListDaemonsRequest: message({}),
  ListDaemonsResponse: message({ daemons: repeated('DaemonDefinition', 1) }),
  SendRequest: message({
    name: string(1),
    payload: bytes(2),
    /** Empty: no key. */
    key: string(3),
    /** Empty: no client id (and then `sequence` must be 0). */
    client_id: string(4),
    sequence: uint64(5),
  }),
  SendResponse: message({
    epoch: uint64(1),
    inbound_offset: uint64(2),
    member_index: uint32(3),
    duplicate: bool(4),
    outputs: repeated('bytes', 5),
  }),
  StateRequest: message({ name: string(1), member: field('MemberIndex', 2) }),
  StateResponse: message({
    name: string(1),
    epoch: uint64(2),
    member_index: uint32(3),
    applied_through: uint64(4),
    state: bytes(5),
  }),
  OutputsRequest: message({
    name: string(1),
    from_sequence: uint64(2),
    follow: bool(3),
    member: field('MemberIndex', 4),
  }),
  Output: message({ sequence: uint64(1), inbound_offset: uint64(2), index: uint32(3), payload: bytes(4) }),
  /** `complete` ends a stream without `follow` that reached the end; a stream that ends without it was cut. */
  OutputsResponse: message({ outputs: repeated('Output', 1), complete: bool(2) }),
  MoveRequest: message({ name: string(1), to: uint64(2) }),
  MovePhase: message({ phase: string(1), duration_ms: field('double', 2) }),
  MoveResponse: message({
    name: string(1),
    epoch: uint64(2),
    from: uint64(3),
    to: uint64(4),
    pause_ms: field('double', 5),
    phases: repeated('MovePhase', 6),
  }),
  RemoveDaemonResponse: message({}),
  Daemons: {
    methods: {
      Deploy: rpc('DeployRequest', 'DaemonStatus'),
      List: rpc('ListDaemonsRequest', 'ListDaemonsResponse'),
      Status: rpc('DaemonName', 'DaemonStatus'),
      Send: rpc('SendRequest', 'SendResponse'),
      State: rpc('StateRequest', 'StateResponse'),
      Outputs: rpc('OutputsRequest', 'OutputsResponse', true),
      Move: rpc('MoveRequest', 'MoveResponse'),
      Remove: rpc('DaemonName', 'RemoveDaemonResponse'),
    },
  },
});

/** The service's full name in the package definition (and on the wire: `/meshos.v1.Daemons/Send`). */
export const DAEMONS_SERVICE_NAME = 'meshos.v1.Daemons';

const loadDaemons = lazyServices(DAEMONS_DESCRIPTOR);

/** The Daemons service's package definition, loaded once per process. */
export function daemonsProtoDefinition(): GrpcServices {
  return loadDaemons();
}
