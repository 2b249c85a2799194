/**
 * Every limit of the reconcile loop, with its unit in its name. The executor's defaults are the
 * seed system's (docs/RECONCILE.md); their relations are asserted at load.
 */
import { assert } from '../lib/index.js';

/** Executor: a chain's replica pulls are at least this far apart (a pull storm on one chain waits). */
export const REPLICA_PULL_COOLDOWN_MS = 250;
/** Executor: at most this many drain actions (StopDaemon, DropReplica) per zone per window. */
export const MAX_DRAINS_PER_ZONE_PER_WINDOW = 10;
export const DRAIN_RATE_WINDOW_MS = 1_000;
/** Executor: queued actions at which submissions are refused (backpressure on). */
export const BACKPRESSURE_ON_QUEUED_ACTIONS = 1_000;
/** Executor: queued actions at or below which submissions are taken again (backpressure off). */
export const BACKPRESSURE_OFF_QUEUED_ACTIONS = 200;
/** Executor: an action deferred this many times fails with the reason of its last deferral. */
export const MAX_DEFERRALS_PER_ACTION = 16;
/** Executor: actions dispatched and not yet completed or failed, at most. */
export const MAX_ACTIONS_IN_FLIGHT = 256;
/** Executor: an action that failed is not dispatched again before this, twice as long after each further failure... */
export const ACTION_RETRY_INITIAL_MS = 100;
/** ...up to this. */
export const ACTION_RETRY_MAX_MS = 2_000;
/** A failure this long after the last one of the same action starts its delay over. */
export const ACTION_RETRY_RESET_MS = 30_000;

/** Crash-loop backoff: the first restart waits this long, each further one twice as long... */
export const CRASH_BACKOFF_INITIAL_MS = 500;
/** ...up to this. */
export const CRASH_BACKOFF_MAX_MS = 60_000;
/** A daemon that ran this long without crashing starts its backoff over at the initial delay. */
export const CRASH_BACKOFF_RESET_MS = 600_000;
/** This many crashes inside the window put a daemon in the cooldown. */
export const CRASH_LOOP_CRASHES = 5;
export const CRASH_LOOP_WINDOW_MS = 60_000;
export const CRASH_LOOP_COOLDOWN_MS = 300_000;
/** Crash times kept per daemon instance (older ones are dropped by the node that reports them). */
export const MAX_CRASH_TIMES_KEPT = 32;

/** A StopDaemon's clean-exit budget; past it the daemon's supervisor force-terminates it. */
export const STOP_DAEMON_GRACE_MS = 10_000;
/** A peer whose median RTT from the others is at least this is slow: it is marked avoided. */
export const SLOW_PEER_RTT_MS = 250;
/** How long an RTT-triggered avoid entry lasts before it expires. */
export const SLOW_PEER_AVOID_TTL_MS = 60_000;
/** Longest avoid TTL an operator or reconcile may ask for. */
export const MAX_AVOID_TTL_MS = 24 * 3_600_000;
/** An operator's avoid request counts as marked by an entry ending at most this much before it (clocks read apart). */
export const OPERATOR_AVOID_SLACK_MS = 1_000;
/** Avoid entries the avoid list holds at most (one per node: the mesh's node limit). */
export const MAX_AVOID_ENTRIES = 10_000;
/** A replica this many records or fewer behind its leader counts as caught up. */
export const CAUGHT_UP_LAG_RECORDS = 0;
/** A down node's chain replicas and blob copies are replaced only after this (a restart keeps them). */
export const DOWN_NODE_GRACE_MS = 60_000;

/** A maintenance request without a deadline gets this long to drain. */
export const DEFAULT_DRAIN_DEADLINE_MS = 300_000;
/** After maintenance a node stays avoided for new placements this long (ramp-up). */
export const RECOVERY_RAMP_UP_MS = 60_000;
/** Longest drain deadline and ramp-up an operator may ask for. */
export const MAX_DRAIN_DEADLINE_MS = 24 * 3_600_000;
export const MAX_RECOVERY_RAMP_UP_MS = 24 * 3_600_000;
/** What a DrainFailed reason names at most of what was left on the node (the rest is counted). */
export const MAX_DRAIN_REASON_ITEMS = 8;

/** A blob whose read heat reaches this moves toward its hottest reader. */
export const BLOB_HOT_HEAT = 1_000;
/** Largest ReduceHeat step (the counter is a u32 on the wire). */
export const MAX_HEAT_REDUCTION = 0xffff_ffff;

/** Desired-state bounds: members of one daemon, replicas of one chain or blob (the blob store's own bound). */
export const MAX_DAEMON_MEMBERS = 16;
export const MAX_CHAIN_REPLICAS_DESIRED = 16;
export { MAX_BLOB_REPLICAS } from '../blobs/limits.js';
/** Longest name of a daemon, chain, zone or blob id. */
export const MAX_RECONCILE_NAME_CHARS = 256;
/** Problems one validation reports at most (the rest are counted). */
export const MAX_REPORTED_PROBLEMS = 100;

assert(
  BACKPRESSURE_OFF_QUEUED_ACTIONS < BACKPRESSURE_ON_QUEUED_ACTIONS,
  'backpressure must turn off below where it turns on',
);
assert(CRASH_BACKOFF_INITIAL_MS <= CRASH_BACKOFF_MAX_MS, 'backoff initial delay exceeds its maximum');
assert(CRASH_BACKOFF_MAX_MS <= CRASH_LOOP_COOLDOWN_MS, 'a cooldown must last at least the longest backoff');
assert(CRASH_LOOP_CRASHES <= MAX_CRASH_TIMES_KEPT, 'the crash-loop window needs its crashes kept');
assert(MAX_ACTIONS_IN_FLIGHT <= BACKPRESSURE_ON_QUEUED_ACTIONS, 'in-flight actions come from the queue');
assert(ACTION_RETRY_INITIAL_MS <= ACTION_RETRY_MAX_MS, 'retry initial delay exceeds its maximum');
assert(
  ACTION_RETRY_MAX_MS < ACTION_RETRY_RESET_MS,
  'a retry delay must end before its failures are forgotten',
);
