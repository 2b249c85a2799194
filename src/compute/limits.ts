/** Named limits and defaults of the compute layer; every queue here is bounded by one of them. */

/** Outputs kept in a host's output log (older ones are dropped, the chain head stays exact). */
export const DEFAULT_OUTPUT_LOG_CAPACITY_ENTRIES = 1024;
export const MAX_OUTPUT_LOG_CAPACITY_ENTRIES = 1 << 20;

/** Take an automatic snapshot every this many inbound events; 0 means manual snapshots only. */
export const DEFAULT_SNAPSHOT_EVERY_EVENTS = 0;

/** Deliveries that may wait behind an asynchronous `process` call on one daemon. */
export const DEFAULT_MAX_QUEUED_DELIVERIES = 1024;
export const MAX_QUEUED_DELIVERIES_LIMIT = 1 << 20;

/** Inbound events a standby group keeps for replay after its last sync. */
export const DEFAULT_REPLAY_BUFFER_CAPACITY_EVENTS = 65_536;
export const MAX_REPLAY_BUFFER_CAPACITY_EVENTS = 1 << 24;

/** Members of a standby group and replicas of a replica group. */
export const MIN_STANDBY_GROUP_MEMBERS = 2;
export const MAX_GROUP_MEMBERS = 255;

/** Lifecycle listeners per runtime; more than this is a leak, not a design. */
export const MAX_LIFECYCLE_LISTENERS = 1024;
