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
