export {
  type ByteDigest,
  CHAIN_BACKUP_DIGEST_BYTES,
  CHAIN_BACKUP_VERSION,
  ChainBackupCorruptError,
  type ChainBackupDefinition,
  type ChainBackupEnd,
  type ChainBackupHeader,
  type ChainBackupItem,
  type ChainBackupRecord,
  ChainRestoreTargetNotEmptyError,
  chainBackupHeaderProblems,
  checkChainBackup,
  encodeChainBackupEnd,
  encodeChainBackupHeader,
  encodeChainBackupPreamble,
  encodeChainBackupRecords,
  MAX_CHAIN_BACKUP_FRAME_BYTES,
  readChainBackup,
} from './backup-format.js';
export { type ChainChange, ChainFollower, type ChainFollowHandlers } from './chain-follower.js';
export {
  ChainHost,
  type ChainHostOptions,
  errorAnswer,
  FAILOVER_PROPOSAL_MIN_INTERVAL_MS,
  type ForwardedRequestHandler,
  MAX_SERVED_REQUESTS_IN_FLIGHT,
} from './chain-host.js';
export {
  type ChainLogOptions,
  openChainLog,
  SegmentedChainLog,
  validateChainLogOptions,
} from './chain-log.js';
export {
  CHAIN_INDEX_INTERVAL_BYTES,
  CHAIN_READ_CHUNK_BYTES,
  chainSegmentBytesProblems,
  DEFAULT_CHAIN_SEGMENT_BYTES,
  MAX_CHAIN_OPEN_READ_FILES,
  MAX_CHAIN_PENDING_OPERATIONS,
  MAX_CHAIN_QUEUED_BYTES,
  MAX_CHAIN_READ_BYTES,
  MAX_CHAIN_READ_RECORDS,
  MAX_CHAIN_SEGMENT_BYTES,
  MIN_CHAIN_SEGMENT_BYTES,
} from './chain-log-limits.js';
export {
  ChainCoordinator,
  type ChainCoordinatorOptions,
  type CoordinatorActionRecord,
  type CoordinatorMembership,
  chainGracePeriodProblems,
  DEFAULT_CHAIN_GRACE_PERIOD_MS,
  DEFAULT_COORDINATOR_LEASE_TTL_SECONDS,
  DEFAULT_COORDINATOR_PLAN_INTERVAL_MS,
  MAX_CHAIN_GRACE_PERIOD_MS,
  MAX_COORDINATOR_ACTIONS_IN_FLIGHT,
  MIN_CHAIN_GRACE_PERIOD_MS,
} from './coordinator.js';
export { LeasedSeat, type LeasedSeatOptions, type SeatTerm } from './coordinator-seat.js';
export {
  type ChainCreateRequest,
  type ChainCreateSpec,
  chainCreateProblems,
  validateChainCreate,
} from './create-request.js';
export {
  type ChainPlacementChoice,
  newChainDefinition,
  withLearner,
  withNextEpoch,
  withoutLearner,
  withPromotedLearner,
} from './definition-changes.js';
export {
  chainDefinitionProblems,
  decodeChainDefinition,
  encodeChainDefinition,
  readChainDefinition,
} from './definition-codec.js';
export { ACKS_POLICIES, checkOnlyFields } from './definition-fields.js';
export {
  DEFAULT_CHAIN_REPLICAS,
  MAX_CHAIN_LEARNERS,
  MAX_CHAIN_RECORD_BYTES,
  MAX_CHAIN_REPLICAS,
  MAX_CHAIN_RETENTION_AGE_MS,
  MAX_CHAIN_RETENTION_BYTES,
  MAX_CHAIN_SYNC_INTERVAL_MS,
  MIN_CHAIN_RETENTION_AGE_MS,
  MIN_CHAIN_RETENTION_BYTES,
  MIN_CHAIN_SYNC_INTERVAL_MS,
} from './definition-limits.js';
export {
  ChainDirectory,
  type ChainDirectoryOptions,
  type ChainListOptions,
  type ChainListPage,
  type ChainWriteOptions,
  DEFAULT_CHAIN_LIST_LIMIT,
  MAX_CHAIN_UPDATE_ATTEMPTS,
  type NextEpochAnswer,
  type NextEpochProposal,
} from './directory.js';
export { type ElectionOutcome, elect, winnerOf } from './election.js';
export {
  CHAINS_PER_NODE_LIMIT,
  ChainAppendOutcomeUnknownError,
  ChainConflictError,
  ChainEntryInvalidError,
  ChainExistsError,
  ChainFencedError,
  ChainLimitError,
  ChainLogClosedError,
  ChainLogCorruptError,
  ChainLogFailedError,
  ChainMessageDecodeError,
  ChainNotFoundError,
  ChainNotLeaderError,
  ChainOffsetOutOfRangeError,
  ChainOffsetTruncatedError,
  ChainOverloadedError,
  ChainRecordTooLargeError,
  ChainSubscriberTooSlowError,
  ChainUnavailableError,
} from './errors.js';
export {
  type FailoverAnswer,
  type FailoverOptions,
  matrixLeaderChoice,
  proposeFailover,
} from './failover.js';
export {
  CHAIN_FORWARD_FAILED,
  ForwardedRequests,
  MAX_FORWARDED_REQUESTS_IN_FLIGHT,
} from './forwarded-requests.js';
export {
  ChainHostMessageError,
  decodeHostFrame,
  type HostAnswer,
  type HostRequest,
  MAX_FORWARDED_PAYLOADS,
} from './host-messages.js';
export {
  type ChainMessage,
  type DefinitionFeed,
  directoryFeed,
  type FailoverProposer,
  type HostedAppend,
  type HostedReplica,
  type HostedReplicaStatus,
  type ReplicaMessageCodec,
  type ReplicaOpener,
  type ReplicaProgress,
} from './host-ports.js';
export { type ChainLeaderChoice, type ChainLeaderQuestion, chooseChainLeader } from './leader-choice.js';
export {
  type LearnerProgress,
  LearnerProgressBoard,
  type LearnerStatus,
  learnerCaughtUp,
  MAX_LEARNER_STATUS_REQUESTS_IN_FLIGHT,
  StatusLearnerProgress,
} from './learner-progress.js';
export { placeNewChain } from './new-chain-placement.js';
export {
  DEFAULT_MAX_CHAINS_PER_NODE,
  originOrSmallestId,
  type PlacementAction,
  type PlacementBlocked,
  type PlacementInput,
  type PlacementLeaderChoice,
  type PlacementNode,
  type PlacementPlan,
  type PlacementRequest,
  planPlacement,
} from './placement.js';
export { ProximityFollower, type ProximityFollowerOptions } from './proximity-follower.js';
export {
  type HealthChangeListener,
  ProximityGraph,
  type ProximityGraphOptions,
  type ProximityLink,
} from './proximity-graph.js';
export {
  MAX_PROXIMITY_PEERS,
  PROXIMITY_HEALTH_DEADLINE_MS,
  PROXIMITY_MIN_PUBLISH_INTERVAL_MS,
  PROXIMITY_PING_INTERVAL_MS,
  PROXIMITY_PUBLISH_INTERVAL_MS,
  PROXIMITY_STALE_AFTER_PUBLISH_INTERVALS,
  RTT_SMOOTHING_WEIGHT,
} from './proximity-limits.js';
export type {
  PeerProximity,
  ProximityMatrix,
  ProximityMatrixRow,
  ProximityRow,
} from './proximity-matrix.js';
export {
  decodeProximityMessage,
  encodeProximityMessage,
  type ProximityMessage,
} from './proximity-messages.js';
export { ProximityPublisher, type ProximityPublisherOptions } from './proximity-publisher.js';
export { decodeProximityRow, encodeProximityRow } from './proximity-record.js';
export {
  ChainReplica,
  type ChainReplicaMemberStatus,
  type ChainReplicaOptions,
  type ChainReplicaRole,
  type ChainReplicaStatus,
  type CommitListener,
} from './replica.js';
export { decodeChainMessage, encodeChainMessage } from './replica-codec.js';
export { majorityOf } from './replica-commit.js';
export {
  APPEND_RETRANSMIT_AFTER_MS,
  CLAIM_RETRY_INTERVAL_MS,
  CLAIM_TIMEOUT_MS,
  EPOCH_LEASE_MS,
  HEARTBEAT_INTERVAL_MS,
  LEADER_STALE_MS,
  MAX_PENDING_APPEND_RECORDS,
  MAX_RECORDS_PER_APPEND,
} from './replica-constants.js';
export type { AppendResult } from './replica-leader.js';
export type {
  AppendAckMessage,
  AppendMessage,
  AppendRefusedMessage,
  ChainReplicaMessage,
  ChainReplicaMessageType,
  ClaimAckMessage,
  ClaimMessage,
  Divergence,
  EpochRefusedMessage,
  FetchMessage,
  FetchReplyMessage,
} from './replica-messages.js';
export {
  MAX_SHARED_APPEND_BYTES,
  MAX_SHARED_APPEND_RECORDS,
  payloadBytes,
  type SendAppend,
  type SharedAppendResult,
  SharedAppends,
} from './shared-appends.js';
export { type StoredChain, storedChainOf } from './stored-chain.js';
export type {
  AcksPolicy,
  ChainDefinition,
  ChainEntry,
  ChainEntryKind,
  ChainLog,
  ChainPeerLink,
  ChainRetention,
  ChainSyncPolicy,
  EpochStart,
} from './types.js';
