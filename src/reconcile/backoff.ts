/**
 * Crash-loop backoff of one daemon member, from its crash times alone: the restart after the
 * n-th crash in a row waits CRASH_BACKOFF_INITIAL_MS * 2^(n-1), at most CRASH_BACKOFF_MAX_MS
 * (a crash more than CRASH_BACKOFF_RESET_MS after the one before starts over at n = 1), and
 * CRASH_LOOP_CRASHES crashes inside CRASH_LOOP_WINDOW_MS put it in a CRASH_LOOP_COOLDOWN_MS
 * cooldown. Pure: the same crash times give the same answer on every node.
 */
import {
  CRASH_BACKOFF_INITIAL_MS,
  CRASH_BACKOFF_MAX_MS,
  CRASH_BACKOFF_RESET_MS,
  CRASH_LOOP_COOLDOWN_MS,
  CRASH_LOOP_CRASHES,
  CRASH_LOOP_WINDOW_MS,
} from './constants.js';

export interface CrashBackoff {
  /** No restart before this (wall clock, like the crash times). */
  readonly untilWallMs: number;
  /** Crashes in a row the delay counts (1 for the first). */
  readonly attempt: number;
  /** True when this is the crash-loop cooldown rather than a plain backoff. */
  readonly cooldown: boolean;
}

/** The backoff after the last of `crashTimesWallMs` (oldest first); undefined without crashes. */
export function crashBackoff(crashTimesWallMs: readonly number[]): CrashBackoff | undefined {
  const last = crashTimesWallMs.at(-1);
  if (last === undefined) return undefined;
  const inWindow = crashTimesWallMs.filter((time) => last - time < CRASH_LOOP_WINDOW_MS).length;
  const attempt = crashesInARow(crashTimesWallMs);
  if (inWindow >= CRASH_LOOP_CRASHES) {
    return { untilWallMs: last + CRASH_LOOP_COOLDOWN_MS, attempt, cooldown: true };
  }
  return { untilWallMs: last + backoffDelayMs(attempt), attempt, cooldown: false };
}

/** The restart delay after the `attempt`-th crash in a row. */
export function backoffDelayMs(attempt: number): number {
  // 2^7 * 500 ms already passes the cap: stop doubling there so the product stays small.
  const doublings = Math.min(Math.max(0, attempt - 1), 7);
  return Math.min(CRASH_BACKOFF_MAX_MS, CRASH_BACKOFF_INITIAL_MS * 2 ** doublings);
}

/** How many of the last crashes followed one another within CRASH_BACKOFF_RESET_MS. */
function crashesInARow(crashTimesWallMs: readonly number[]): number {
  let count = 1;
  for (let index = crashTimesWallMs.length - 1; index > 0; index--) {
    if (crashTimesWallMs[index]! - crashTimesWallMs[index - 1]! > CRASH_BACKOFF_RESET_MS) break;
    count += 1;
  }
  return count;
}
