/**
 * Every limit of the client-facing API layer, with its unit in the name. Request size limits that
 * change what a command does live in the key-value state machine (`MAX_REQUEST_BYTES`).
 */
import { MAX_REQUEST_BYTES } from '../kv/index.js';

/** Room above the largest command for gRPC framing and protobuf field tags. */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** Largest gRPC message accepted; larger ones are refused by gRPC itself (RESOURCE_EXHAUSTED). */
export const MAX_RECEIVE_MESSAGE_BYTES = MAX_REQUEST_BYTES + GRPC_OVERHEAD_BYTES;

/** Largest gRPC message sent (a range answer may hold many keys). */
export const MAX_SEND_MESSAGE_BYTES = 2 * 1024 * 1024 * 1024 - 1;

/** Bytes of snapshot data per Maintenance.Snapshot message. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

/** Most watches one Watch stream may hold at once; more are refused at creation. */
export const MAX_WATCHES_PER_STREAM = 10_000;

/** Keepalive requests one LeaseKeepAlive stream may have waiting; more end the stream. */
export const MAX_PENDING_KEEPALIVES_PER_STREAM = 1_024;

/** How often an idle watch created with progress_notify gets a progress response. */
export const DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS = 10 * 60 * 1000;

/** How long `close()` lets calls finish before cutting them. */
export const SHUTDOWN_GRACE_MS = 2_000;

/** Version reported by Maintenance.Status when the backend does not say (the etcd API level served). */
export const SERVED_ETCD_API_VERSION = '3.5.0';

/** Records a chains Read answers when the request leaves `limit` at 0. */
export const DEFAULT_CHAIN_READ_LIMIT_RECORDS = 1_000;
/** Most records one chains Read may ask for. */
export const MAX_CHAIN_READ_LIMIT_RECORDS = 10_000;
/** Payload bytes a chains Read answers (about) when the request leaves `max_bytes` at 0. */
export const DEFAULT_CHAIN_READ_MAX_BYTES = 1024 * 1024;
/** Most payload bytes one chains Read may ask for (well under the client's message limit). */
export const MAX_CHAIN_READ_MAX_BYTES = 4 * 1024 * 1024;
/** Most records one Subscribe message carries (the records of one read go out together, split by these). */
export const MAX_SUBSCRIBE_MESSAGE_RECORDS = 1_000;
/**
 * About how many payload bytes one Subscribe message carries; at least one record, so a message
 * stays under this plus one record (1 MiB at most), well inside a client's 4 MiB receive limit.
 */
export const MAX_SUBSCRIBE_MESSAGE_BYTES = 1024 * 1024;
/**
 * Payload bytes of Subscribe messages written to a call and not yet handed to the connection;
 * past it the stream stops taking records from the backend (whose bounded buffer then decides
 * whether the subscriber is too slow). Batching made messages large: this, not a message
 * count, bounds a subscriber's memory on the port.
 */
export const MAX_SUBSCRIBE_UNSENT_BYTES = 1024 * 1024;
/** Most records in one chains Append (their bytes are bounded by `MAX_RECEIVE_MESSAGE_BYTES`). */
export const MAX_CHAIN_APPEND_BATCH_RECORDS = 10_000;
/** How long an Append without a gRPC deadline may wait for its acknowledgement. */
export const DEFAULT_CHAIN_APPEND_TIMEOUT_MS = 10_000;

/** How long a daemons Send without a gRPC deadline may wait for its acknowledgement. */
export const DEFAULT_DAEMON_SEND_TIMEOUT_MS = 10_000;
/** How long a daemons Move without a gRPC deadline may take (six phases, a snapshot transfer). */
export const DEFAULT_DAEMON_MOVE_TIMEOUT_MS = 60_000;
/**
 * Taken off a call's deadline before it is handed to the backend, so the backend's own typed
 * answer (DAEMON_UNAVAILABLE: not applied) reaches the client before the client gives up on a
 * bare deadline (which only says "maybe").
 */
export const DAEMON_ANSWER_MARGIN_MS = 100;
/** Most outputs in one Outputs stream message. */
export const MAX_DAEMON_OUTPUTS_PER_MESSAGE = 256;
/** Payload bytes one Outputs stream message holds (about: at least one output is always sent). */
export const MAX_DAEMON_OUTPUT_MESSAGE_BYTES = 1024 * 1024;
