/**
 * Every limit of the blob store, with its unit in its name; their relations are asserted at load.
 * See docs/BLOBS.md.
 */
import { assert } from '../lib/index.js';

/**
 * Most nodes one blob is kept on (a put's and a desired blob's replicas). Here, not in
 * src/reconcile (which re-exports it beside its other desired-state bounds), so the client
 * checks a put without loading reconcile.
 */
export const MAX_BLOB_REPLICAS = 16;
/** Largest blob a node stores (a put past it is refused with BLOB_TOO_LARGE). */
export const MAX_BLOB_BYTES = 1024 * 1024 * 1024;
/** Bytes one read of a stored blob, one peer answer and one streamed gRPC message carry at most. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;
/** Chunk requests one node-to-node copy keeps in flight (a window, so a copy is not one round trip per chunk). */
export const BLOB_FETCH_WINDOW_CHUNKS = 4;
/** How long one chunk request to a holder may take. */
export const BLOB_CHUNK_TIMEOUT_MS = 10_000;
/** Blob copies (fetches, replications, served transfers) running on one node at once; more wait. */
export const MAX_CONCURRENT_BLOB_TRANSFERS = 8;
/** Transfers waiting for a slot at most; past it a transfer is refused with BLOB_BUSY. */
export const MAX_WAITING_BLOB_TRANSFERS = 64;
/** How long a replicate request (the target copies the whole blob) may take before the asker gives up. */
export const BLOB_REPLICATE_TIMEOUT_MS = 300_000;
/** How long a request to delete a copy may take (a file removed after one record read). */
export const BLOB_DROP_TIMEOUT_MS = 10_000;
/** Requests on the blobs channel in flight from one node at once; more are refused unsent. */
export const MAX_BLOB_PEER_REQUESTS_IN_FLIGHT = 10_000;

/** Read heat halves in this time: a blob nobody reads cools by itself. */
export const BLOB_HEAT_HALF_LIFE_MS = 60_000;
/** Heat one read adds on the node that reads. */
export const BLOB_HEAT_PER_READ = 1;
/** Heat below this is forgotten (a blob read once an hour ago is cold). */
export const MIN_TRACKED_BLOB_HEAT = 0.01;
/** Blobs whose heat one node tracks and publishes at most (the coolest are dropped first); a row of them stays well inside one control-plane value (256 KiB). */
export const MAX_HEAT_ENTRIES_PER_NODE = 1_000;
/** A node publishes its heat row at most this often (and only when it changed). */
export const BLOB_HEAT_PUBLISH_INTERVAL_MS = 2_000;

/**
 * A copy on a node that its blob's record does not name (the blob deleted or moved while the node
 * was away, a put that crashed before recording it) is deleted once two of the node's checks at
 * least this far apart both found it unlisted and nothing on the node used it in between: longer
 * than a put or a copy may take before its record names the copy. `--blob-orphan-grace-ms`.
 */
export const BLOB_ORPHAN_GRACE_MS = 600_000;
export const MIN_BLOB_ORPHAN_GRACE_MS = 1_000;
export const MAX_BLOB_ORPHAN_GRACE_MS = 86_400_000;
/** A node checks its copies against the records at most this far apart (a quarter of the grace when shorter). */
export const MAX_BLOB_ORPHAN_CHECK_INTERVAL_MS = 60_000;

/** Compare-and-swap attempts on one blob record before a change gives up (BLOB_CONFLICT). */
export const MAX_BLOB_RECORD_CAS_ATTEMPTS = 16;
/** Blob records one listing answers at most. */
export const MAX_LISTED_BLOBS = 10_000;

assert(
  BLOB_CHUNK_BYTES <= 4 * 1024 * 1024,
  'a chunk and its frame must fit well inside a peer frame (8 MiB)',
);
assert(MAX_BLOB_BYTES >= BLOB_CHUNK_BYTES, 'a blob may span at least one chunk');
assert(MIN_TRACKED_BLOB_HEAT < BLOB_HEAT_PER_READ, 'one read must be tracked');
assert(
  BLOB_ORPHAN_GRACE_MS > BLOB_REPLICATE_TIMEOUT_MS,
  'a put waits for its copies before recording them: an unrecorded copy must outlive that wait',
);
assert(
  MIN_BLOB_ORPHAN_GRACE_MS <= BLOB_ORPHAN_GRACE_MS && BLOB_ORPHAN_GRACE_MS <= MAX_BLOB_ORPHAN_GRACE_MS,
  'the default orphan grace lies within its bounds',
);

/** How often a node with orphan grace `graceMs` checks its copies. */
export function orphanCheckIntervalMs(graceMs: number): number {
  return Math.min(MAX_BLOB_ORPHAN_CHECK_INTERVAL_MS, Math.max(250, Math.floor(graceMs / 4)));
}

/** What is wrong with `--blob-orphan-grace-ms` (empty when nothing). */
export function blobOrphanGraceProblems(graceMs: number): string[] {
  if (
    Number.isSafeInteger(graceMs) &&
    graceMs >= MIN_BLOB_ORPHAN_GRACE_MS &&
    graceMs <= MAX_BLOB_ORPHAN_GRACE_MS
  )
    return [];
  return [
    `the blob orphan grace period must be whole milliseconds from ${MIN_BLOB_ORPHAN_GRACE_MS} to ${MAX_BLOB_ORPHAN_GRACE_MS}, got ${graceMs}`,
  ];
}
