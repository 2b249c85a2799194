/**
 * Every limit of the key-value state machine, with its unit in the name. Values that change what
 * a command does (and therefore the replicated state) must be identical on every replica.
 */

/** Largest encoded command the state machine accepts (etcd's default is 1.5 MiB). */
export const MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

/** Most operations in one txn list (compares, success or failure), counted as etcd does. */
export const MAX_TXN_OPERATIONS = 128;

/** Deepest nesting of txns inside txns; bounds decoder and apply recursion. */
export const MAX_TXN_DEPTH = 16;

/** Longest a lease may live; larger grants are refused. */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

/** Grants shorter than this are raised to it, so a lease survives one leader change. */
export const DEFAULT_MIN_LEASE_TTL_SECONDS = 2;

/** Events a watcher may hold undelivered before it is cancelled as too slow. */
export const WATCH_BUFFER_EVENTS = 1024;

/** Events read from history per catch-up step for a watcher that started in the past. */
export const WATCH_CATCH_UP_BATCH_EVENTS = 256;

/** Most watchers one hub serves at once. */
export const MAX_WATCHERS = 100_000;

/** Most lease ids one `Lessor.expired` call returns, so revokes are proposed at a bounded rate. */
export const MAX_EXPIRED_LEASES_PER_CALL = 1_000;

/** After an expired lease is reported, it is reported again only after this long if still present. */
export const EXPIRED_LEASE_RETRY_MS = 3_000;

/*
 * Snapshot steps. A snapshot is encoded and decoded a bounded step at a time so that a node
 * keeps its event loop (heartbeats, client requests) turning; these sizes bound one step and
 * never change the snapshot's bytes. A step of each kind takes a few milliseconds.
 */

/** Keys (or leases) one snapshot encode or decode step handles at most. */
export const SNAPSHOT_STEP_KEYS = 1_000;

/** Bytes one snapshot encode or decode step handles at most (large values end a step sooner). */
export const SNAPSHOT_STEP_BYTES = 512 * 1024;

/** Records one step of sorting a decoded snapshot's change log moves. */
export const SNAPSHOT_SORT_STEP_RECORDS = 65_536;

/**
 * Change-log records one step of dropping held history walks at most: compacted history a
 * snapshot's view held back is dropped this much per step once the view closes (a few ms; the
 * auto-compactor's steps are the same size).
 */
export const HELD_DROP_STEP_RECORDS = 10_000;

/**
 * Records one step of a value evacuation looks at (see value-arena.ts): each write group and each
 * compaction takes one such step while an evacuation runs (well under a millisecond).
 */
export const EVACUATION_STEP_RECORDS = 1_024;
