import { assert } from '../lib/index.js';

/** How long a child may take between being started and calling `ready()`. */
export const DEFAULT_START_TIMEOUT_MS = 10_000;
/** How long a child may take to exit after its abort signal fires before it is force-stopped. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;
/** A nested supervisor stops its own children one by one, so it gets a longer default budget. */
export const DEFAULT_NESTED_SUPERVISOR_SHUTDOWN_TIMEOUT_MS = 60_000;
/** How long a drain stop action may run before it is reported as failed. */
export const DEFAULT_DRAIN_DEADLINE_MS = 5_000;

/** Default restart budget: at most this many restarts of one child inside the period. */
export const DEFAULT_MAX_RESTARTS = 3;
export const DEFAULT_RESTART_PERIOD_MS = 5_000;
export const DEFAULT_BACKOFF_INITIAL_MS = 100;
export const DEFAULT_BACKOFF_MAX_MS = 10_000;
export const DEFAULT_BACKOFF_MULTIPLIER = 2;
/** Fraction of the backoff delay that is randomised either way (0.2 means +-20 %). */
export const DEFAULT_BACKOFF_JITTER_RATIO = 0.2;

/** Upper bounds that keep every window, queue and log bounded. */
export const MAX_RESTARTS_LIMIT = 1_000;
export const MAX_CHILDREN_PER_SUPERVISOR = 10_000;
export const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1_000;
/** Lifecycle events kept in memory; older ones are dropped and counted. */
export const DEFAULT_EVENT_LOG_CAPACITY_EVENTS = 1_000;
export const MAX_EVENT_LOG_CAPACITY_EVENTS = 1_000_000;
/** Children that may queue for one name under the `wait` collision policy. */
export const MAX_NAME_WAITERS_PER_NAME = 64;
/** Listener callbacks per supervisor; more is a leak in the caller. */
export const MAX_EVENT_LISTENERS = 64;

assert(DEFAULT_BACKOFF_INITIAL_MS <= DEFAULT_BACKOFF_MAX_MS, 'backoff initial delay exceeds its maximum');
assert(DEFAULT_MAX_RESTARTS <= MAX_RESTARTS_LIMIT, 'default restart budget exceeds the limit');
assert(DEFAULT_START_TIMEOUT_MS <= MAX_TIMEOUT_MS, 'default start timeout exceeds the limit');
assert(
  DEFAULT_SHUTDOWN_TIMEOUT_MS <= DEFAULT_NESTED_SUPERVISOR_SHUTDOWN_TIMEOUT_MS,
  'a nested supervisor must get at least the shutdown budget of a plain child',
);
assert(
  DEFAULT_EVENT_LOG_CAPACITY_EVENTS <= MAX_EVENT_LOG_CAPACITY_EVENTS,
  'default event log capacity exceeds the limit',
);
