export { type ElectionOutcome, elect, winnerOf } from './election.js';
export {
  ChainAppendOutcomeUnknownError,
  ChainExistsError,
  ChainLimitError,
  ChainNotFoundError,
  ChainNotLeaderError,
  ChainOffsetTruncatedError,
  ChainOverloadedError,
  ChainRecordTooLargeError,
  ChainSubscriberTooSlowError,
  ChainUnavailableError,
} from './errors.js';
export { type ChainLeaderChoice, type ChainLeaderQuestion, chooseChainLeader } from './leader-choice.js';
export type {
  PeerProximity,
  ProximityMatrix,
  ProximityMatrixRow,
  ProximityRow,
} from './proximity-matrix.js';
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
