/**
 * The proximity graph's timings and bounds (docs/CHAINS.md "Election"), related values asserted
 * at load.
 */
import { assert } from '../lib/index.js';

/** How often each peer is pinged. */
export const PROXIMITY_PING_INTERVAL_MS = 1_000;
/** A peer with no pong for this long (three missed pings) is unhealthy. */
export const PROXIMITY_HEALTH_DEADLINE_MS = 3 * PROXIMITY_PING_INTERVAL_MS;
/**
 * Weight of the newest sample in the smoothed RTT (an exponentially weighted moving average):
 * heavier than TCP's 1/8 since pings come only once a second, so a changed path shows within a
 * few seconds.
 */
export const RTT_SMOOTHING_WEIGHT = 0.25;
/** How often a node rewrites its row even when nothing changed: the row's heartbeat. */
export const PROXIMITY_PUBLISH_INTERVAL_MS = 5_000;
/** The least time between two writes of a row (a health flip asks for one sooner than the above). */
export const PROXIMITY_MIN_PUBLISH_INTERVAL_MS = 1_000;
/** A row not rewritten for this many publish intervals is stale: its node stopped publishing. */
export const PROXIMITY_STALE_AFTER_PUBLISH_INTERVALS = 3;
/** Most peers one node pings and publishes (a row stays far below the control plane's value limit). */
export const MAX_PROXIMITY_PEERS = 1_024;

assert(
  PROXIMITY_HEALTH_DEADLINE_MS > PROXIMITY_PING_INTERVAL_MS,
  'a peer must be allowed to miss a ping before it is unhealthy',
);
assert(RTT_SMOOTHING_WEIGHT > 0 && RTT_SMOOTHING_WEIGHT <= 1, 'the smoothing weight is a fraction');
assert(
  PROXIMITY_MIN_PUBLISH_INTERVAL_MS <= PROXIMITY_PUBLISH_INTERVAL_MS,
  'a health flip publishes sooner than the heartbeat, never later',
);
assert(PROXIMITY_STALE_AFTER_PUBLISH_INTERVALS >= 2, 'one late write must not make a row stale');
