/**
 * Log matching over epoch histories. Within one epoch only its leader writes, and it never
 * rewrites a record, so two logs holding a record of the same epoch at the same offset agree on
 * every record up to it: comparing epochs at one offset compares whole prefixes.
 */
import { MAX_CLAIM_HISTORY_ENTRIES } from './replica-constants.js';
import type { Divergence } from './replica-messages.js';
import type { ChainEntry, ChainLog, EpochStart } from './types.js';

/** The epoch of the record at `offset` by `history` (oldest first); 0 before its first entry. */
export function epochAt(history: readonly EpochStart[], offset: number): number {
  let low = 0;
  let high = history.length - 1;
  let found = 0;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const start = history[middle] as EpochStart;
    if (start.offset <= offset) {
      found = start.epoch;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** The epoch of the record just before `offset` (0 at offset 0): what an append there must match. */
export function prevEpochAt(history: readonly EpochStart[], offset: number): number {
  return offset === 0 ? 0 : epochAt(history, offset - 1);
}

/**
 * Whether `log` can take records at `fromOffset` after a record of `prevEpoch`: undefined when
 * it can, else where it parts from the asker's log. Records below the log's start were removed
 * by retention, which keeps only committed records away, so they are taken to match.
 */
export function divergenceAt(log: ChainLog, fromOffset: number, prevEpoch: number): Divergence | undefined {
  if (fromOffset > log.endOffset) return { resumeOffset: log.endOffset, conflictEpoch: 0 };
  if (fromOffset === 0 || fromOffset - 1 < log.startOffset) return undefined;
  const history = log.epochHistory();
  const own = epochAt(history, fromOffset - 1);
  if (own === prevEpoch) return undefined;
  const ownStart = history.find((start) => start.epoch === own)?.offset ?? log.startOffset;
  return { resumeOffset: Math.max(ownStart, log.startOffset), conflictEpoch: own };
}

/**
 * Where to ask next after the other side reported `divergence` for records at `fromOffset`:
 * past our own records of the conflicting epoch when we hold any (the logs agree at most up to
 * there), else at the start of that epoch in the other log. Always below `fromOffset`, so a
 * probe ends.
 */
export function nextProbeOffset(
  history: readonly EpochStart[],
  endOffset: number,
  fromOffset: number,
  divergence: Divergence,
): number {
  const below = Math.max(0, fromOffset - 1);
  if (divergence.conflictEpoch === 0) return Math.min(divergence.resumeOffset, below);
  const index = history.findIndex((start) => start.epoch === divergence.conflictEpoch);
  if (index < 0) return Math.min(divergence.resumeOffset, below);
  const endOfEpoch = history[index + 1]?.offset ?? endOffset;
  return Math.min(endOfEpoch, below);
}

/**
 * Where our log and another (known by the tail of its history and its end) last agree, as far
 * as the tail tells: the highest offset at or below both ends after which the epochs match.
 * Only a first guess: a fetch there checks it.
 */
export function agreementGuess(
  ownHistory: readonly EpochStart[],
  ownEnd: number,
  otherTail: readonly EpochStart[],
  otherEnd: number,
): number {
  const limit = Math.min(ownEnd, otherEnd);
  const tailStart = otherTail[0]?.offset ?? 0;
  const candidates = new Set<number>([limit]);
  for (const start of ownHistory) if (start.offset < limit) candidates.add(start.offset);
  for (const start of otherTail) if (start.offset < limit) candidates.add(start.offset);
  const descending = [...candidates].sort((left, right) => right - left);
  for (const offset of descending) {
    if (offset === 0) return 0;
    if (offset - 1 < tailStart) break;
    if (epochAt(ownHistory, offset - 1) === epochAt(otherTail, offset - 1)) return offset;
  }
  return Math.min(tailStart, limit);
}

/** The newest epoch-history entries, as a claim answer carries them. */
export function historyTail(history: readonly EpochStart[]): EpochStart[] {
  return history.slice(-MAX_CLAIM_HISTORY_ENTRIES);
}

/**
 * Writes `entries` (offsets from `fromOffset`, already checked to follow a matching record)
 * into `log`: records it holds with the same epoch are kept, the first conflicting one and
 * everything after it is cut off, and the rest is appended. Returns the offset it truncated
 * from, or undefined.
 */
export function reconcileEntries(
  log: ChainLog,
  fromOffset: number,
  entries: readonly ChainEntry[],
): number | undefined {
  const history = log.epochHistory();
  for (let index = 0; index < entries.length; index++) {
    const offset = fromOffset + index;
    if (offset >= log.endOffset) {
      log.append(entries.slice(index));
      return undefined;
    }
    if (offset < log.startOffset) continue;
    if (epochAt(history, offset) === (entries[index] as ChainEntry).epoch) continue;
    log.truncateFrom(offset);
    log.append(entries.slice(index));
    return offset;
  }
  return undefined;
}
