/**
 * The public API of the `meshos` package: what `import { ... } from 'meshos'` offers. An
 * explicit list, so a name is public only when it is written here; everything else is internal
 * and may change without notice.
 */

// The etcd v3 gRPC API server, over any key-value backend.
export type { EtcdApiServer, EtcdApiServerOptions, KvBackend } from './api/index.js';
export { startEtcdApiServer } from './api/index.js';
// The client.
export type {
  Bytes,
  CallOptions,
  DeleteOptions,
  DeleteResult,
  EndpointStatus,
  KeyValue,
  LeaseGrantResult,
  LeaseTimeToLiveResult,
  Member,
  MemberAddResult,
  MeshClientOptions,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  ResponseHeader,
  SnapshotOptions,
  TxnCompare,
  TxnOp,
  TxnRequest,
  TxnResult,
  Watch,
  WatchEvent,
  WatchOptions,
} from './client/index.js';
export {
  bytesToText,
  ClientClosedError,
  CompactedError,
  LeaseNotFoundError,
  MeshClient,
  MeshClientError,
  NotLeaderError,
  op,
  prefixRangeEnd,
  SnapshotCorruptError,
  TimeoutError,
  TxnIf,
  TxnThen,
  toBytes,
  UnavailableError,
  WatchCanceledError,
} from './client/index.js';
// Compute: daemons on causal event chains, and standby, replica and fork groups.
export type {
  DaemonEvent,
  DaemonFactory,
  DaemonHealth,
  DaemonRuntimeOptions,
  ForkGroupOptions,
  LifecycleEvent as DaemonLifecycleEvent,
  MeshDaemon,
  ProcessResult,
  ReplicaGroupConfig,
  SpawnOptions,
  StandbyGroupConfig,
} from './compute/index.js';
export {
  ActiveUnavailableError,
  ChainGapError,
  DaemonBusyError,
  DaemonCrashedError,
  DaemonNotFoundError,
  DaemonQueueFullError,
  DaemonRuntime,
  ForkGroup,
  NoStandbyError,
  ReplicaGroup,
  StandbyGroup,
  StatelessDaemon,
  UnknownKindError,
} from './compute/index.js';
// The control plane: the mesh's shared state (nodes, chains, daemons, ...) on the node's own
// Raft KV or on any etcd v3 endpoint list, with the keyspace's key builders.
export type {
  ControlCompare,
  ControlDeleteAnswer,
  ControlEntry,
  ControlEvent,
  ControlGetOptions,
  ControlLeaseGrant,
  ControlLeaseTimeToLive,
  ControlPlane,
  ControlPlaneKind,
  ControlPutOptions,
  ControlRangeAnswer,
  ControlRangeOptions,
  ControlTxn,
  ControlTxnAnswer,
  ControlTxnOp,
  ControlTxnOpResult,
  ControlWatch,
  ControlWatchOptions,
  ControlWriteAnswer,
  KeepAliveOptions,
  LeaseKeepAlive,
  LeaseLoss,
  LeaseLossReason,
  RecordReader,
} from './control/index.js';
export {
  absent,
  actionKey,
  auditKey,
  ControlBadKeyError,
  ControlBadRequestError,
  ControlBadValueError,
  ControlClosedError,
  ControlCompactedError,
  ControlFutureRevisionError,
  ControlLeaseNotFoundError,
  ControlPlaneError,
  ControlRecordDecodeError,
  ControlRejectedError,
  ControlUnavailableError,
  chainKey,
  DEFAULT_CONTROL_ROOT,
  daemonKey,
  encodeRecord,
  groupKey,
  KEYSPACE_PREFIXES,
  MAX_CONTROL_KEY_BYTES,
  MAX_CONTROL_VALUE_BYTES,
  maintenanceKey,
  nodeIdOfKey,
  nodeKey,
  placementKey,
  present,
  readRecord,
  unchangedSince,
  valueIs,
} from './control/index.js';
// Errors (every operating error is a MeshError with a stable `code`: match on the code), and
// the seams a caller passes in (supervision and compute take a clock and a random source).
export {
  type Address,
  AssertionError,
  type Clock,
  formatAddress,
  isMeshError,
  type Logger,
  ManualClock,
  MeshError,
  parseAddress,
  type Random,
  SeededRandom,
  SystemClock,
  systemRandom,
  ValidationError,
} from './lib/index.js';
export { findFreeLoopbackPort, silentLogger } from './lib/node/index.js';
// Running a node in this process: `await new NodeBuilder(config).start()`, then `node.stop()`.
export type { MeshNodeConfig, MeshNodeDependencies, MeshNodeEndpoints } from './mesh/index.js';
export {
  DataDirectoryLock,
  DataDirectoryLockedError,
  formatPeerList,
  IdentityMismatchError,
  MeshNode,
  NodeBuilder,
  parsePeerList,
} from './mesh/index.js';
// Supervision trees.
export type {
  BackoffPolicy,
  ChildContext,
  ChildSnapshot,
  ChildSpec,
  ChildStart,
  CompiledSupervisor,
  CompileResult,
  LifecycleEvent as SupervisorLifecycleEvent,
  NameLease,
  RestartPolicy,
  RestartType,
  ResumeStateStore,
  Strategy,
  SupervisorOptions,
  SupervisorSpec,
} from './supervisor/index.js';
export {
  BootFailedError,
  ChildStartError,
  compile,
  compileOrThrow,
  EscalationError,
  EventLog,
  MemoryResumeStateStore,
  NameRegistry,
  NameTakenError,
  SpecCompileError,
  Supervisor,
  SupervisorStateError,
} from './supervisor/index.js';
// The cluster CA and node certificates for mutual TLS between nodes (as `meshos certs`).
export { CertificateError, createClusterCa, issueNodeCertificate } from './transport/index.js';
