/**
 * Joining a replica's log to a log that starts past offset 0 (docs/CHAINS.md, "Retention and
 * lagging replicas"). Retention drops only records its replica knows are committed, so a leader
 * (or a claim's source) that no longer holds the records before its start sends from its start
 * naming no previous epoch. A replica that cannot match its log to those records drops it and
 * starts its log there: it loses only committed records retention already dropped on the
 * sender, or records that were never committed. (Its own commit offset is no proof its records
 * match: with `acks=one` a committed record can be replaced.)
 */
import type { ReplicaContext } from './replica-context.js';
import { epochAt } from './replica-epochs.js';
import type { Divergence } from './replica-messages.js';
import type { ChainEntry, ChainLog } from './types.js';

/** The previous epoch an append or fetch answer names when its sender's log starts at `fromOffset`. */
export const UNKNOWN_PREVIOUS_EPOCH = 0;

/** Whether records sent from `fromOffset` after `prevEpoch` come from the start of the sender's log. */
export function sentFromLogStart(fromOffset: number, prevEpoch: number): boolean {
  return fromOffset > 0 && prevEpoch === UNKNOWN_PREVIOUS_EPOCH;
}

/** The divergence that has the other side go on from our log's start (nothing below it to match). */
export function resumeAtLogStart(log: Pick<ChainLog, 'startOffset'>): Divergence {
  return { resumeOffset: log.startOffset, conflictEpoch: 0 };
}

/**
 * Whether records sent from `offset` without the previous epoch (`first` the first of them) can
 * join our log. They can when we hold nothing below `offset`, or when our record at `offset` has
 * `first`'s epoch (two logs with a record of one epoch at one offset agree up to it). Otherwise
 * every record we hold from `offset` on differs from the sender's (so none was committed) and
 * those below it cannot be checked: the log restarts empty at `offset`. False when it cannot be
 * told (no record came): the caller refuses, and the sender sends records.
 */
export function joinAtLogStart(
  context: ReplicaContext,
  offset: number,
  first: ChainEntry | undefined,
): boolean {
  const { log } = context;
  if (offset <= log.startOffset) return true;
  if (first === undefined) return false;
  if (offset < log.endOffset && epochAt(log.epochHistory(), offset) === first.epoch) return true;
  log.restartAt(offset);
  // A commit offset learned past it (possible only with acks one) comes back with the records.
  context.truncated(offset);
  return true;
}
