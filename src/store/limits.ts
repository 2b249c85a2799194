/** Every size and count limit of the store, in one place. */

/** Default size at which the active segment is sealed and a new one started. */
export const DEFAULT_SEGMENT_SIZE_BYTES = 64 * 1024 * 1024;
/** Smallest segment size accepted (tests use small segments to exercise rollover). */
export const MIN_SEGMENT_SIZE_BYTES = 1024;
/** Largest segment size accepted; a segment is read whole at recovery. */
export const MAX_SEGMENT_SIZE_BYTES = 1024 * 1024 * 1024;
/** Default number of snapshot files kept; older ones are removed after each save. */
export const DEFAULT_SNAPSHOTS_RETAINED = 2;
export const MAX_SNAPSHOTS_RETAINED = 64;
/** Largest record payload (one entry's data plus its fields). */
export const MAX_RECORD_PAYLOAD_BYTES = 128 * 1024 * 1024;
/** Writes waiting for the writer beyond this count are refused with STORE_OVERLOADED. */
export const MAX_PENDING_OPERATIONS = 65_536;
/** Snapshot saves waiting their turn beyond this count are refused with STORE_OVERLOADED. */
export const MAX_PENDING_SNAPSHOT_SAVES = 4;
/** Snapshot data checksummed and written per step, so saving a large snapshot never holds the event loop long. */
export const SNAPSHOT_FILE_PART_BYTES = 4 * 1024 * 1024;
/** One group commit writes at most this many bytes (more wait for the next sync). */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** Largest snapshot file read back (config plus data plus framing). */
export const MAX_SNAPSHOT_FILE_BYTES = 2 * 1024 * 1024 * 1024 - 1;

/** Upper bounds (inclusive) of the fsync latency histogram buckets, in milliseconds. */
export const FSYNC_LATENCY_BUCKET_BOUNDS_MS: readonly number[] = Object.freeze([
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000,
]);
