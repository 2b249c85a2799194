export { type AdminServer, type AdminStatusSource, startAdminServer } from './admin-http.js';
export type {
  BackendStatus,
  ClusterMember,
  KvBackend,
  LeaseTimeToLiveAnswer,
} from './kv-backend.js';
export {
  DEFAULT_ELECTION_TICKS,
  DEFAULT_HEARTBEAT_TICKS,
  DEFAULT_SNAPSHOT_EVERY_ENTRIES,
  DEFAULT_TICK_INTERVAL_MS,
  type LeaderInfo,
  LOG_ENTRIES_KEPT_AFTER_SNAPSHOT,
  MAX_PENDING_PROPOSALS,
  NodeStoppedError,
  type PeerLink,
  RaftNode,
  type RaftNodeOptions,
  ReadyTimeoutError,
  type ReplicatedStateMachine,
  TooManyPendingProposalsError,
} from './raft-node.js';
export { ProposalDroppedError, ReadDroppedError } from './waiters.js';
