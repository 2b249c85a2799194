/** Every limit of the client library, with its unit in the name. */

/** Whole budget of one logical call, all retries included, unless the caller gives its own. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** Budget of a snapshot download, which streams the whole state. */
export const DEFAULT_SNAPSHOT_TIMEOUT_MS = 5 * 60_000;

/** Attempts of one logical call (the first try included) before its last error is thrown. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** Largest number of attempts a caller may configure. */
export const MAX_ATTEMPTS_LIMIT = 100;

/** First retry waits about this long; each further retry doubles it up to the cap. */
export const RETRY_BACKOFF_BASE_MS = 25;

/** Longest wait between two attempts. */
export const RETRY_BACKOFF_MAX_MS = 1_000;

/** Watch responses buffered for a slow reader before the stream is paused (backpressure). */
export const WATCH_BUFFER_RESPONSES = 64;

/** Largest snapshot accepted; a stream announcing more is refused. */
export const MAX_SNAPSHOT_BYTES = 2 * 1024 * 1024 * 1024 - 1;

/** Largest gRPC message the client accepts (a range answer may hold many keys). */
export const MAX_RECEIVE_MESSAGE_BYTES = 512 * 1024 * 1024;

/** Length of the SHA-256 digest that ends a snapshot stream (src/protocol/snapshot-file.ts). */
export { SNAPSHOT_DIGEST_BYTES } from '../protocol/index.js';

/** Most endpoints a client keeps (given ones plus those learned from the member list). */
export const MAX_ENDPOINTS = 64;

/** Longest a leader discovery round (Status on every endpoint, maybe a member list) may take. */
export const DISCOVERY_TIMEOUT_MS = 1_000;

/** Writes one client may have in flight at once (one per session lane). */
export const MAX_WRITE_LANES = 32;

/** Writes waiting for a free lane; past this a write fails at once with TOO_MANY_REQUESTS. */
export const MAX_QUEUED_WRITES = 10_000;

/** Longest client id a caller may give; lane suffixes (".31") must still fit the node's 128. */
export const MAX_CLIENT_ID_LENGTH = 120;

/** Budget of a daemon deploy or remove (placement, chains created or deleted on several nodes). */
export const DEFAULT_DAEMON_CHANGE_TIMEOUT_MS = 30_000;

/** Budget of a daemon move (six phases, a snapshot transfer). */
export const DEFAULT_DAEMON_MOVE_TIMEOUT_MS = 60_000;

/** How long an append stream with nothing in flight stays open before the client ends it. */
export const APPEND_STREAM_IDLE_CLOSE_MS = 2_000;

/**
 * How long past an append's deadline the node may take to answer it on its stream (the node
 * answers every append by its deadline) before the client takes the stream as broken.
 */
export const APPEND_STREAM_ANSWER_GRACE_MS = 5_000;

/** Appends waiting for room on one append stream; beyond this an append fails at once, not sent. */
export const MAX_APPEND_STREAM_WAITING_APPENDS = 10_000;

/** Budget of a blob put or get, retries included (a large blob takes a while to stream). */
export const DEFAULT_BLOB_TIMEOUT_MS = 300_000;
/** Bytes of a blob one Put message carries (well below the server's message limit). */
export const MAX_CLIENT_BLOB_CHUNK_BYTES = 1024 * 1024;
