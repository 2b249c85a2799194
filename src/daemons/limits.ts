/** Named limits of the daemons layer; every collection a daemon member keeps is bounded by one. */

/** A kind's name: 1 to this many characters of `KIND_NAME_PATTERN`. */
export const MAX_KIND_NAME_CHARACTERS = 64;
export const KIND_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Entries a `journal` keeps unless its config asks for fewer. */
export const DEFAULT_JOURNAL_MAX_ENTRIES = 65_536;
/** The most entries a `journal` config may ask for. */
export const MAX_JOURNAL_ENTRIES_LIMIT = 1_048_576;
/** Payload bytes (summed) a `journal` keeps unless its config asks for fewer. */
export const DEFAULT_JOURNAL_MAX_BYTES = 16 * 1024 * 1024;
/** The most payload bytes a `journal` config may ask for. */
export const MAX_JOURNAL_BYTES_LIMIT = 256 * 1024 * 1024;

/** Decimal digits (sign excluded) a `counter` payload may have: enough for any safe integer. */
export const MAX_COUNTER_PAYLOAD_DIGITS = 16;
/** Distinct event keys a `counter` counts; an event with a new key past them is refused. */
export const MAX_COUNTER_KEYS = 1024;

/** `--daemon-module` flags one node takes. */
export const MAX_DAEMON_MODULES = 64;
/** Kinds one daemon module may export. */
export const MAX_KINDS_PER_MODULE = 256;

/** Outputs one event may produce; more fail the event (`DAEMON_PROCESS_FAILED`, nothing applied). */
export const MAX_DAEMON_OUTPUTS_PER_EVENT = 64;
/** Largest single output, in bytes (its output-chain record adds a small header). */
export const MAX_DAEMON_OUTPUT_BYTES = 256 * 1024;
/** Largest sum of one event's outputs, in bytes. */
export const MAX_DAEMON_OUTPUT_BYTES_PER_EVENT = 1024 * 1024;

/** Clients whose last answer a member keeps for retries; the least recently applied is evicted past it. */
export const MAX_DEDUP_CLIENTS = 16_384;
/** Bytes (outputs, failure texts, client ids, plus `DEDUP_ENTRY_OVERHEAD_BYTES` each) the dedup table keeps. */
export const MAX_DEDUP_TABLE_BYTES = 64 * 1024 * 1024;
/** What one dedup entry costs beyond its outputs and texts, counted against `MAX_DEDUP_TABLE_BYTES`. */
export const DEDUP_ENTRY_OVERHEAD_BYTES = 64;
/** Longest failure message a dedup entry keeps, in characters (longer ones are cut). */
export const MAX_DEDUP_FAILURE_MESSAGE_CHARACTERS = 1_024;

/** How long one `process` call may take, in milliseconds, before it fails with `DAEMON_PROCESS_TIMEOUT`. */
export const DAEMON_PROCESS_DEADLINE_MS = 5_000;
/**
 * A member checkpoints its daemon's state and keeps the events applied since, so that a failed
 * event can be undone. It checkpoints after at least this many events...
 */
export const ROLLBACK_CHECKPOINT_MIN_EVENTS = 64;
/** ...and after enough events that copying the state costs at most this many bytes an event... */
export const ROLLBACK_CHECKPOINT_STATE_BYTES_PER_EVENT = 1024;
/** ...but always by this many events or this many payload bytes kept, which bound an undo. */
export const MAX_ROLLBACK_LOG_EVENTS = 16_384;
export const MAX_ROLLBACK_LOG_BYTES = 4 * 1024 * 1024;
