export { type AdminServer, type AdminStatusSource, startAdminServer } from './admin-http.js';
export {
  type AutoCompactionConfig,
  type AutoCompactionMode,
  AutoCompactionPolicy,
  autoCompactionProblems,
  MAX_PERIODIC_SAMPLE_INTERVAL_MS,
  MIN_PERIODIC_SAMPLE_INTERVAL_MS,
  PERIODIC_SAMPLES_PER_RETENTION,
  REVISION_CHECK_INTERVAL_MS,
  validateAutoCompaction,
} from './auto-compaction-policy.js';
export {
  AutoCompactor,
  type AutoCompactorCounters,
  type CompactionTarget,
  MAX_COMPACTION_STEP_RECORDS,
} from './auto-compactor.js';
export {
  LEADER_RETRY_PAUSE_MS,
  LEADER_WAIT_ANSWER_MARGIN_MS,
  LEADER_WAIT_TIMEOUT_MS,
  LeaderWait,
  leaderWaitMs,
  MAX_LEADER_ATTEMPTS,
  MAX_LEADER_WAIT_MS,
  MAX_REQUESTS_WAITING_FOR_LEADER,
  neverProposed,
  readRetryable,
  TooManyWaitingForLeaderError,
} from './leader-wait.js';
export { MemberDirectory, type MemberRecord } from './member-directory.js';
export {
  LEARNER_PROMOTION_LAG_ENTRIES,
  LearnerNotReadyError,
  Membership,
  MOVE_LEADER_TIMEOUT_MS,
  REMOVE_LEADER_TRANSFER_TIMEOUT_MS,
} from './membership.js';
export {
  decodeNodeCommand,
  encodeNodeCommand,
  type NodeCommand,
  NodeCommandDecodeError,
} from './node-command.js';
export { type NodeApplyResult, NodeStateMachine, StaleRequestError } from './node-state-machine.js';
export {
  FORWARD_TIMEOUT_MS,
  ForwardError,
  MAX_FORWARDS_IN_FLIGHT,
  type PeerChannelLink,
  PeerChannels,
  type PeerDatagrams,
} from './peer-channels.js';
export type { ForwardToLeader } from './raft-kv-backend.js';
export {
  LEADER_DUTY_INTERVAL_MS,
  MESHOS_VERSION,
  RaftKvBackend,
  type RaftKvBackendOptions,
} from './raft-kv-backend.js';
export {
  DEFAULT_SNAPSHOT_EVERY_ENTRIES,
  DRAIN_TURN_BUDGET_MS,
  type LeaderInfo,
  LOG_ENTRIES_KEPT_AFTER_SNAPSHOT,
  MAX_APPLIED_ENTRIES_PER_TURN,
  MAX_PENDING_PROPOSALS,
  MAX_WAITING_READS,
  MemberRemovedError,
  NodeStoppedError,
  type PeerLink,
  RaftNode,
  type RaftNodeOptions,
  ReadyTimeoutError,
  type ReplicatedStateMachine,
  TooManyPendingProposalsError,
} from './raft-node.js';
export { decodeClusterConfig, encodeClusterConfig } from './raft-records.js';
export {
  type Admission,
  decodeSessionEnvelope,
  encodeSessionEnvelope,
  MAX_CLIENT_ID_LENGTH,
  MAX_SESSION_RESULT_BYTES,
  MAX_SESSIONS,
  SESSION_EXPIRY_ENTRIES,
  type SessionEnvelope,
  SessionTable,
} from './session-table.js';
export {
  type OpenedSnapshotFile,
  type OpenSnapshotFileOptions,
  openSnapshotFile,
  SnapshotFileCorruptError,
  type SnapshotFileSummary,
  summarizeSnapshotFile,
} from './snapshot-file-reader.js';
export { snapshotDue, snapshotPhaseOf } from './snapshot-schedule.js';
export { LeaderChangedError, ProposalDroppedError, ReadDroppedError } from './waiters.js';
