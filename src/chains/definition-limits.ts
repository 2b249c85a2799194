/**
 * Bounds on what a chain's definition may ask for, checked when a chain is created and when a
 * stored definition is read. Relations between them are asserted at load.
 */
import { assert } from '../lib/index.js';

/** Most replicas a chain may have (a claim waits on a majority of them). */
export const MAX_CHAIN_REPLICAS = 7;
/** Replicas of a chain created without a count. */
export const DEFAULT_CHAIN_REPLICAS = 3;
/** Learners a chain may have at once (replacement goes one replica at a time). */
export const MAX_CHAIN_LEARNERS = 1;

/** Bounds of an `interval` sync policy's fdatasync period. */
export const MIN_CHAIN_SYNC_INTERVAL_MS = 1;
export const MAX_CHAIN_SYNC_INTERVAL_MS = 60_000;

/** Largest payload of one record. */
export const MAX_CHAIN_RECORD_BYTES = 1024 * 1024;
/** Retention by bytes keeps at least this much (a few largest records); at most the maximum. */
export const MIN_CHAIN_RETENTION_BYTES = 4 * MAX_CHAIN_RECORD_BYTES;
export const MAX_CHAIN_RETENTION_BYTES = 2 ** 50;
/** Retention by age keeps at least a second and at most ten years. */
export const MIN_CHAIN_RETENTION_AGE_MS = 1_000;
export const MAX_CHAIN_RETENTION_AGE_MS = 10 * 365 * 24 * 3_600_000;

assert(
  DEFAULT_CHAIN_REPLICAS >= 1 && DEFAULT_CHAIN_REPLICAS <= MAX_CHAIN_REPLICAS,
  'default replicas in range',
);
assert(MIN_CHAIN_SYNC_INTERVAL_MS <= MAX_CHAIN_SYNC_INTERVAL_MS, 'sync interval bounds ordered');
assert(MIN_CHAIN_RETENTION_BYTES <= MAX_CHAIN_RETENTION_BYTES, 'retention byte bounds ordered');
assert(MAX_CHAIN_RETENTION_BYTES <= Number.MAX_SAFE_INTEGER, 'retention bytes fit a safe integer');
assert(MIN_CHAIN_RETENTION_AGE_MS <= MAX_CHAIN_RETENTION_AGE_MS, 'retention age bounds ordered');
