// The daemons layer of issue 15: kinds (built-in and loaded from modules), their catalog, and
// the shapes the node's daemons service and the API share. See docs/DAEMONS.md.
export {
  DEFAULT_DEDUP_LIMITS,
  type DedupCheck,
  type DedupEntry,
  type DedupLimits,
  DedupTable,
  type RecordedOutcome,
} from './dedup-table.js';
export {
  CounterKeysFullError,
  DaemonMemberBrokenError,
  DaemonMemberBusyError,
  DaemonModuleLoadError,
  DaemonPayloadError,
  DaemonProcessTimeoutError,
  DaemonRecordDecodeError,
  DaemonSequenceStaleError,
  DaemonStateInvalidError,
  JournalFullError,
} from './errors.js';
export {
  type AppliedEvent,
  ExactlyOnceApplier,
  type ExactlyOnceApplierOptions,
} from './exactly-once-applier.js';
export {
  DEFAULT_GUARD_LIMITS,
  type GuardLimits,
  guardedProcess,
  type ProcessSite,
} from './guarded-process.js';
export * from './kinds/index.js';
export * from './limits.js';
export { decodeMemberSnapshot, encodeMemberSnapshot, type MemberSnapshot } from './member-snapshot.js';
export {
  decodeInboundEventRecord,
  decodeOutputRecord,
  encodeInboundEventRecord,
  encodeOutputRecord,
  MAX_INBOUND_RECORD_HEADER_BYTES,
  MAX_OUTPUT_RECORD_HEADER_BYTES,
} from './record-codec.js';
export {
  leastSaturatedReplica,
  type ReplicaLoad,
  type ReplicaRoute,
  type ReplicaRouteReason,
  replicaForKey,
  routeReplicaEvent,
} from './replica-routing.js';
export type * from './types.js';
