/** Waits between retries: exponential with jitter, so clients that failed together spread out. */
import type { Random } from '../lib/index.js';
import { RETRY_BACKOFF_BASE_MS, RETRY_BACKOFF_MAX_MS } from './limits.js';

/**
 * The wait before retry number `retry` (0 for the first retry): half of the capped exponential
 * step for sure, plus a random share of the other half.
 */
export function retryDelayMs(retry: number, random: Random): number {
  const stepMs = Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_BASE_MS * 2 ** Math.min(retry, 30));
  const halfMs = stepMs / 2;
  return Math.round(halfMs + random.nextFloat() * halfMs);
}
