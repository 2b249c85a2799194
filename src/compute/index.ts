export {
  type CausalLink,
  type ChainEntry,
  ChainValidator,
  genesisLink,
  hashLink,
  LINK_HASHED_HEADER_BYTES,
  LinkHasher,
  nextLink,
  validateChain,
} from './causal.js';
export {
  type ControlSignal,
  type DaemonEvent,
  type DaemonFactory,
  type DaemonHealth,
  EMPTY_STATE,
  HEALTHY,
  type MeshDaemon,
  type ProcessResult,
  StatelessDaemon,
} from './daemon.js';
export {
  ActiveUnavailableError,
  ChainGapError,
  ChainGenesisError,
  ChainOriginError,
  ChainParentError,
  DaemonBusyError,
  DaemonCrashedError,
  DaemonNotFoundError,
  DaemonQueueFullError,
  DaemonRemovedError,
  DuplicateKindError,
  DuplicateOriginError,
  GroupBusyError,
  GroupClosedError,
  MemberNotActiveError,
  NoStandbyError,
  ReplayBufferFullError,
  ReplicaUnavailableError,
  RuntimePhaseError,
  StatelessDaemonStateError,
  UnknownKindError,
} from './errors.js';
export * from './groups/index.js';
export {
  type ChainPosition,
  DaemonHost,
  type DaemonHostConfig,
  type DaemonSnapshot,
  DEFAULT_HOST_CONFIG,
  hostConfigProblems,
  validateHostConfig,
} from './host.js';
export {
  type DaemonIdentity,
  deriveSeed,
  ED25519_SEED_BYTES,
  GROUP_SEED_BYTES,
  identityFromSeed,
  memberIdentity,
  originHashOf,
} from './identity.js';
export * from './limits.js';
export {
  DaemonRegistry,
  type DeliveryGate,
  type DeliveryObserver,
  type Disposable,
  type RegistryEntry,
} from './registry.js';
export {
  DaemonRuntime,
  type DaemonRuntimeOptions,
  type LifecycleEvent,
  type LifecycleListener,
  type RuntimePhase,
  type RuntimeStats,
  type SpawnOptions,
} from './runtime.js';
