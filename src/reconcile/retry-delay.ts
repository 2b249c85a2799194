/**
 * How long the executor holds an action that failed before dispatching the same change again
 * (same `actionKey`): ACTION_RETRY_INITIAL_MS after the first failure, doubling with each further
 * one up to ACTION_RETRY_MAX_MS. Reconcile re-plans right after a failure and would otherwise
 * hand the owner the same doomed action every pass (one every few milliseconds while the cause
 * lasts). A success forgets the key; so does a failure ACTION_RETRY_RESET_MS after the last.
 */
import { ACTION_RETRY_INITIAL_MS, ACTION_RETRY_MAX_MS, ACTION_RETRY_RESET_MS } from './constants.js';

interface Failures {
  /** Failures in a row. */
  count: number;
  lastFailedAtMs: number;
}

export class RetryDelay {
  private readonly failures = new Map<string, Failures>();

  failed(key: string, nowMs: number): void {
    const known = this.live(key, nowMs);
    if (known === undefined) this.failures.set(key, { count: 1, lastFailedAtMs: nowMs });
    else {
      known.count += 1;
      known.lastFailedAtMs = nowMs;
    }
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }

  /** The earliest time the change `key` may be dispatched again (`nowMs` when nothing holds it). */
  notBeforeMs(key: string, nowMs: number): number {
    const known = this.live(key, nowMs);
    return known === undefined ? nowMs : Math.max(nowMs, known.lastFailedAtMs + retryDelayMs(known.count));
  }

  /** The failures of `key` that still count at `nowMs` (older ones are forgotten here). */
  private live(key: string, nowMs: number): Failures | undefined {
    const known = this.failures.get(key);
    if (known === undefined || nowMs - known.lastFailedAtMs < ACTION_RETRY_RESET_MS) return known;
    this.failures.delete(key);
    return undefined;
  }

  /** Forgets failures too old to hold anything (keeps the map as small as the live failures). */
  forgetExpired(nowMs: number): void {
    for (const [key, known] of this.failures)
      if (nowMs - known.lastFailedAtMs >= ACTION_RETRY_RESET_MS) this.failures.delete(key);
  }

  get size(): number {
    return this.failures.size;
  }
}

/** The delay after the `count`-th failure in a row. */
export function retryDelayMs(count: number): number {
  // Past 2^5 the cap is reached: stop doubling there so the power stays small.
  const doublings = Math.min(Math.max(0, count - 1), 5);
  return Math.min(ACTION_RETRY_MAX_MS, ACTION_RETRY_INITIAL_MS * 2 ** doublings);
}
