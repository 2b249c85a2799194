export { type ElectionOutcome, elect, winnerOf } from './election.js';
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
