export { binaryToBytes, bytesToBinary, compareBytes, crc32, prefixRangeEnd, utf8 } from './bytes.js';
export {
  decodeKvCommand,
  decodeKvResult,
  encodeKvCommand,
  encodeKvResult,
  KV_CODEC_VERSION,
  writeKvCommand,
  writeKvResult,
} from './codec.js';
export {
  CompactedError,
  DuplicateKeyError,
  EmptyKeyError,
  FutureRevisionError,
  InvalidRangeError,
  InvalidRequestError,
  KeyNotFoundError,
  KvCodecError,
  KvError,
  kvErrorFromCode,
  LeaseExistsError,
  LeaseNotFoundError,
  LeaseTtlTooLargeError,
  NoSpaceError,
  RequestTooLargeError,
  SnapshotCorruptError,
  TooManyOperationsError,
} from './errors.js';
export { KvEvent, type KvEventType } from './events.js';
export { type KvHash, KvHasher } from './hash.js';
export { Lessor, NotPrimaryLessorError } from './lessor.js';
export {
  DEFAULT_MIN_LEASE_TTL_SECONDS,
  EXPIRED_LEASE_RETRY_MS,
  MAX_EXPIRED_LEASES_PER_CALL,
  MAX_LEASE_TTL_SECONDS,
  MAX_REQUEST_BYTES,
  MAX_TXN_DEPTH,
  MAX_TXN_OPERATIONS,
  MAX_WATCHERS,
  SNAPSHOT_SORT_STEP_RECORDS,
  SNAPSHOT_STEP_BYTES,
  SNAPSHOT_STEP_KEYS,
  WATCH_BUFFER_EVENTS,
  WATCH_CATCH_UP_BATCH_EVENTS,
} from './limits.js';
export { RECORD_OVERHEAD_BYTES, storedRecordBytes } from './mvcc.js';
export { type KeyOrder, MAX_BLOCK_ITEMS, OrderedIndex } from './ordered-index.js';
export {
  commandCostBytes,
  DEFAULT_QUOTA_BACKEND_BYTES,
  exceedsQuota,
  LEASE_STORED_BYTES,
  MAX_QUOTA_BACKEND_BYTES,
  writesData,
} from './quota.js';
export { KV_SNAPSHOT_VERSION, SNAPSHOT_STEP_LIMITS, type SnapshotStepLimits } from './snapshot.js';

export {
  type ApplyOutcome,
  KvStateMachine,
  type KvStateMachineOptions,
  type LeaseChanges,
} from './state-machine.js';
export type {
  AlarmMember,
  AlarmRequest,
  AlarmResponse,
  AlarmType,
  CompactRequest,
  CompactResponse,
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  DeleteRangeResponse,
  ErrorResponse,
  KeyValue,
  KvCommand,
  KvResult,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseStatus,
  LeaseTimeToLive,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  TxnResponse,
} from './types.js';
export { type KeyRange, resolveRange, validateKvCommand } from './validate.js';
export {
  type CancelReason,
  TooManyWatchersError,
  type WatchEvent,
  Watcher,
  WatchHub,
  type WatchHubOptions,
  type WatchHubStats,
  type WatchRequest,
  type WatchResponse,
  type WatchSource,
} from './watch.js';
