/**
 * The messages chain replicas exchange (docs/CHAINS.md, Replication). Every message names its
 * chain and an epoch, so a host routes it to the chain's replica and stale ones are told apart.
 * Requests carry the sender's leading epoch; answers carry the epoch of the request they answer.
 */
import type { ChainEntry, EpochStart } from './types.js';

/** A new leader asks a replica to promise its epoch (the answer is durable before it is sent). */
export interface ClaimMessage {
  readonly type: 'claim';
  readonly chain: string;
  readonly epoch: number;
  /** The leader's monotonic clock when it sent this (whole ms), echoed in the answer. */
  readonly sentAtMs: number;
}

/** The replica promised `epoch`; its log as it stood, for the leader to pick the most up-to-date. */
export interface ClaimAckMessage {
  readonly type: 'claimAck';
  readonly chain: string;
  readonly epoch: number;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly lastEpoch: number;
  /** The claim's `sentAtMs`: the leader's epoch lease counts from it, not from arrival. */
  readonly echoMs: number;
  /** The newest entries of its epoch history (at most `MAX_CLAIM_HISTORY_ENTRIES`). */
  readonly historyTail: readonly EpochStart[];
}

/**
 * A request (claim, append or fetch) came from an epoch older than the one this replica
 * promised: the sender is fenced and must step down.
 */
export interface EpochRefusedMessage {
  readonly type: 'epochRefused';
  readonly chain: string;
  readonly epoch: number;
  readonly promisedEpoch: number;
}

/**
 * Records `fromOffset, fromOffset + 1, ...`; the record before them (offset `fromOffset - 1`)
 * has epoch `prevEpoch` in the leader's log (0 when `fromOffset` is 0). Empty as a heartbeat.
 */
export interface AppendMessage {
  readonly type: 'append';
  readonly chain: string;
  readonly epoch: number;
  readonly fromOffset: number;
  readonly prevEpoch: number;
  readonly entries: readonly ChainEntry[];
  readonly commitOffset: number;
  /** The leader's monotonic clock when it sent this (whole ms), echoed in the answer. */
  readonly sentAtMs: number;
}

/** Every record below `matchEnd` matches the leader's log and is durable on the follower. */
export interface AppendAckMessage {
  readonly type: 'appendAck';
  readonly chain: string;
  readonly epoch: number;
  readonly matchEnd: number;
  /** The append's `sentAtMs`. */
  readonly echoMs: number;
}

/**
 * Where two logs part, as the answering replica sees it: either its log ends before the asked
 * offset (`conflictEpoch` 0, `resumeOffset` its end) or its record before the asked offset has
 * `conflictEpoch`, whose records begin at `resumeOffset` in its log.
 */
export interface Divergence {
  readonly resumeOffset: number;
  readonly conflictEpoch: number;
}

/** The follower's log does not match at `fromOffset`; the leader resumes per the divergence. */
export interface AppendRefusedMessage extends Divergence {
  readonly type: 'appendRefused';
  readonly chain: string;
  readonly epoch: number;
  readonly fromOffset: number;
  /** The append's `sentAtMs`. */
  readonly echoMs: number;
}

/** A claiming leader asks the most up-to-date replica for records it lacks (same matching rule). */
export interface FetchMessage {
  readonly type: 'fetch';
  readonly chain: string;
  readonly epoch: number;
  readonly fromOffset: number;
  readonly prevEpoch: number;
}

/** The asked records, or where the logs part when the replica's record before them differs. */
export interface FetchReplyMessage {
  readonly type: 'fetchReply';
  readonly chain: string;
  readonly epoch: number;
  readonly fromOffset: number;
  readonly entries: readonly ChainEntry[];
  readonly divergence: Divergence | undefined;
}

export type ChainReplicaMessage =
  | ClaimMessage
  | ClaimAckMessage
  | EpochRefusedMessage
  | AppendMessage
  | AppendAckMessage
  | AppendRefusedMessage
  | FetchMessage
  | FetchReplyMessage;

export type ChainReplicaMessageType = ChainReplicaMessage['type'];
