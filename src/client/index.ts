export {
  AuthClient,
  type AuthLookupOptions,
  type AuthStatus,
  type NewUserPassword,
  PERMISSION_TYPES,
  type Permission,
  type PermissionRangeOptions,
  type PermissionType,
  permissionRangeEnd,
} from './auth.js';
export { retryDelayMs } from './backoff.js';
export { type BlobDownload, type BlobPutOptions, type BlobSource, BlobsClient } from './blobs.js';
export { ALL_KEYS_RANGE_END, bytesToText, prefixRangeEnd, toBytes } from './bytes.js';
export { ChainSubscription } from './chain-subscription.js';
export { type ChainCreateOptions, type ChainReadOptions, ChainsClient } from './chains.js';
export { type EndpointStatusResult, MeshClient } from './client.js';
export { DaemonOutputStream } from './daemon-outputs.js';
export {
  type DaemonDeployOptions,
  type DaemonOutputsOptions,
  type DaemonSendOptions,
  DaemonsClient,
} from './daemons.js';
export { chooseLeader, type LeaderChoice } from './discovery.js';
export { normalizeEndpoint } from './endpoint.js';
export {
  ClientClosedError,
  CompactedError,
  errorFromGrpc,
  LeaseNotFoundError,
  MeshClientError,
  NotLeaderError,
  SnapshotCorruptError,
  TimeoutError,
  UnavailableError,
  WatchCanceledError,
} from './errors.js';
export {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_DAEMON_CHANGE_TIMEOUT_MS,
  DEFAULT_DAEMON_MOVE_TIMEOUT_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_SNAPSHOT_TIMEOUT_MS,
  DISCOVERY_TIMEOUT_MS,
  MAX_CLIENT_ID_LENGTH,
  MAX_ENDPOINTS,
  MAX_QUEUED_WRITES,
  MAX_SNAPSHOT_BYTES,
  MAX_WRITE_LANES,
  RETRY_BACKOFF_BASE_MS,
  RETRY_BACKOFF_MAX_MS,
  SNAPSHOT_DIGEST_BYTES,
  WATCH_BUFFER_RESPONSES,
} from './limits.js';
export { type ClientTlsOptions, type MeshClientOptions, validateClientOptions } from './options.js';
export { etcdServiceDefinition } from './proto.js';
export { CLIENT_ID_HEADER, SEQUENCE_HEADER } from './session.js';
export type { SnapshotSink } from './stream-calls.js';
export { op, TxnIf, TxnThen } from './txn-builder.js';
export type {
  Bytes,
  CallOptions,
  CompareOperator,
  CompareTarget,
  DeleteOptions,
  DeleteResult,
  EndpointStatus,
  KeyValue,
  LeaseGrantResult,
  LeaseTimeToLiveResult,
  Member,
  MemberAddResult,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  ResponseHeader,
  SnapshotOptions,
  SortOrder,
  SortTarget,
  TxnCompare,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  WatchEvent,
  WatchOptions,
} from './types.js';
export type { Watch } from './watch.js';
