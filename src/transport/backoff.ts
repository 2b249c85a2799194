import { assert, type Random } from '../lib/index.js';
import { RECONNECT_BACKOFF_MAX_MS, RECONNECT_BACKOFF_MIN_MS } from './limits.js';

/**
 * Delay before reconnect attempt `failedAttempts` (1 after the first failure). The ceiling
 * doubles per failure from the minimum up to the maximum; the delay is drawn uniformly from
 * the upper half of the ceiling so peers that lost a node together do not redial in step.
 */
export function reconnectDelayMs(
  failedAttempts: number,
  random: Random,
  minMs: number = RECONNECT_BACKOFF_MIN_MS,
  maxMs: number = RECONNECT_BACKOFF_MAX_MS,
): number {
  assert(Number.isInteger(failedAttempts) && failedAttempts >= 1, `failed attempts ${failedAttempts}`);
  assert(minMs > 0 && minMs <= maxMs, `backoff bounds ${minMs}..${maxMs}`);
  const exponent = Math.min(failedAttempts - 1, 30);
  const ceilingMs = Math.min(maxMs, minMs * 2 ** exponent);
  const floorMs = Math.max(minMs, Math.floor(ceilingMs / 2));
  return random.nextIntBetween(floorMs, Math.max(floorMs, Math.floor(ceilingMs)));
}
