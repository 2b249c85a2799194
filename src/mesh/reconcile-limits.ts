/**
 * The limits of the reconcile service on a node (docs/RECONCILE.md), each with its unit; the pure
 * core's own limits are in src/reconcile/constants.ts.
 */
import { MIN_CONTROL_LEASE_TTL_SECONDS } from '../control/index.js';
import { assert } from '../lib/index.js';
import { CRASH_LOOP_CRASHES, MAX_CRASH_TIMES_KEPT } from '../reconcile/index.js';

/**
 * TTL of the reconciler lease: a holder that stops renewing loses it this long after and another
 * node takes over. The plane's minimum, so a killed holder is replaced within about two seconds.
 */
export const RECONCILER_LEASE_TTL_SECONDS = MIN_CONTROL_LEASE_TTL_SECONDS;
/** The holder runs a pass at least this often (backoffs and grace periods end without an event). */
export const RECONCILE_PASS_INTERVAL_MS = 1_000;
/** A change is followed by a pass after at most this long (changes arriving together share one). */
export const RECONCILE_CHANGE_DELAY_MS = 20;
/** While actions wait (deferred, gated), the executor is drained this often. */
export const RECONCILE_DRAIN_INTERVAL_MS = 100;
/** How often a node looks at its members and rewrites its report when it changed. */
export const NODE_REPORT_INTERVAL_MS = 250;
/** Daemon members one report lists at most (a report is one control-plane value). */
export const MAX_REPORTED_DAEMON_MEMBERS = 500;
/** Crash times reported per member: enough for the crash-loop window and the longest backoff. */
export const MAX_REPORTED_CRASH_TIMES = 8;
/** Daemon members a node takes when its record states no `capacity.daemons`. */
export const DEFAULT_NODE_DAEMON_CAPACITY = 10_000;
/** Longest daemon name a record carries (the keyspace's name segment). */
export const MAX_REPORTED_NAME_CHARS = 128;
/** Blocked reasons and pending actions `/status` shows at most. */
export const RECONCILE_STATUS_ENTRIES_SHOWN = 20;

assert(MAX_REPORTED_CRASH_TIMES >= CRASH_LOOP_CRASHES, 'a report must carry a whole crash loop');
assert(MAX_REPORTED_CRASH_TIMES <= MAX_CRASH_TIMES_KEPT, 'a report carries no more than the core keeps');
assert(RECONCILE_DRAIN_INTERVAL_MS < RECONCILE_PASS_INTERVAL_MS, 'drains run between passes');
