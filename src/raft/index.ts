/**
 * The pure Raft core. Host loop, in this order:
 *
 *   if (raft.hasReady()) {
 *     const ready = raft.ready();
 *     persist(ready.snapshot, ready.entries, ready.hardState);   // storage.applySnapshot / append / setHardState
 *     send(ready.messages);                                      // may also go before persisting
 *     send(ready.snapshotReads.map(read => snapshotChunkOf(read, bytesOf(read)))); // like messages
 *     send(ready.messagesAfterPersist);                          // only once the above is durable
 *     apply(ready.committedEntries);                             // config entries are informational
 *     answer(ready.readStates) once applied >= index; fail(ready.droppedReads);
 *     raft.advance();
 *   }
 *
 * `hasReady()` is false while a Ready is out (between `ready()` and `advance()`). Founders
 * start from `new MemoryRaftStorage(config)`; nodes that join later from `new MemoryRaftStorage()`
 * and learn the configuration from the leader's log or snapshot.
 */
export { decodeMessage, encodeMessage, MESSAGE_CODEC_VERSION } from './codec.js';
export { type LeaseReadConfig, leaseDurationTicks, type RaftConfig, validateRaftConfig } from './config.js';
export {
  applyConfigChange,
  BOOTSTRAP_TERM,
  bootstrapEntries,
  type ConfigChange,
  decodeConfigChange,
  EMPTY_CONFIG,
  encodeConfigChange,
  isJoint,
  isMemberOf,
  isVoterIn,
} from './config-change.js';
export {
  DEFAULT_ELECTION_TICKS,
  DEFAULT_HEARTBEAT_TICKS,
  DEFAULT_MAX_APPEND_BYTES,
  DEFAULT_MAX_INFLIGHT_BYTES,
  DEFAULT_MAX_INFLIGHT_MESSAGES,
  DEFAULT_TICK_INTERVAL_MS,
  EARLY_CAMPAIGN_RANK_SPACING_TICKS,
  EARLY_CAMPAIGN_RETRY_TICKS,
  MAX_PENDING_READS,
  MAX_SNAPSHOT_BYTES,
  SNAPSHOT_CHUNK_BYTES,
} from './constants.js';
export {
  ConfigChangeInProgressError,
  InvalidConfigChangeError,
  LeadershipTransferInProgressError,
  LogCompactedError,
  LogUnavailableError,
  MessageDecodeError,
  NotLeaderError,
  ProposalTooLargeError,
  SnapshotOutOfDateError,
  TooManyPendingReadsError,
} from './errors.js';
export {
  InvalidTransferTargetError,
  MAX_COMMITTED_ENTRIES_PER_READY,
  MAX_UNCOMMITTED_ENTRIES,
  ProposalBacklogFullError,
  Raft,
} from './raft.js';
export { snapshotChunkOf, snapshotInfo } from './snapshot-chunks.js';
export { EMPTY_HARD_STATE, MemoryRaftStorage, type RaftStorage } from './storage.js';
export type {
  AppendRequest,
  AppendResponse,
  ClusterConfig,
  Entry,
  EntryKind,
  HardState,
  Heartbeat,
  HeartbeatResponse,
  Message,
  MessageType,
  NodeId,
  ProgressState,
  ProgressStatus,
  RaftStatus,
  ReadIndexRequest,
  ReadIndexResponse,
  ReadState,
  Ready,
  ReadyOptions,
  Role,
  Snapshot,
  SnapshotChunk,
  SnapshotChunkRead,
  SnapshotInfo,
  SnapshotMetadata,
  SnapshotResponse,
  SoftState,
  TimeoutNow,
  VoteRequest,
  VoteResponse,
} from './types.js';
