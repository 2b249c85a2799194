/** Every size and count limit of a chain's log on disk (the record limit is the definitions': MAX_CHAIN_RECORD_BYTES). */
import { assert } from '../lib/index.js';
import { MAX_CHAIN_RECORD_BYTES } from './definition-limits.js';

/** Default size at which a chain's active segment is sealed and a new one started. */
export const DEFAULT_CHAIN_SEGMENT_BYTES = 16 * 1024 * 1024;
/** Smallest segment size accepted (tests use small segments to exercise rolls). */
export const MIN_CHAIN_SEGMENT_BYTES = 1024;
/** Largest segment size accepted; a segment is read whole when the log is opened. */
export const MAX_CHAIN_SEGMENT_BYTES = 1024 * 1024 * 1024;

/** What is wrong with a segment size (a log's option, a node's `--chain-segment-bytes`); empty when nothing. */
export function chainSegmentBytesProblems(segmentBytes: number): string[] {
  if (
    Number.isSafeInteger(segmentBytes) &&
    segmentBytes >= MIN_CHAIN_SEGMENT_BYTES &&
    segmentBytes <= MAX_CHAIN_SEGMENT_BYTES
  )
    return [];
  return [
    `the chain segment size must be whole bytes from ${MIN_CHAIN_SEGMENT_BYTES} to ${MAX_CHAIN_SEGMENT_BYTES}, got ${segmentBytes}`,
  ];
}
/** One sparse index entry per this many bytes of a segment: a read skips at most this much. */
export const CHAIN_INDEX_INTERVAL_BYTES = 4 * 1024;
/** A read fetches a segment at least this many bytes at a time. */
export const CHAIN_READ_CHUNK_BYTES = 16 * 1024;
/** One `read` returns at most this many payload bytes, whatever the caller asks (one record excepted). */
export const MAX_CHAIN_READ_BYTES = 8 * 1024 * 1024;
/** One `read` returns at most this many records. */
export const MAX_CHAIN_READ_RECORDS = 65_536;
/** Segment files one log keeps open for reads between them (the least recently read close first). */
export const MAX_CHAIN_OPEN_READ_FILES = 2;
/** Encoded bytes appended but not yet written beyond which `append` is refused (CHAIN_OVERLOADED). */
export const MAX_CHAIN_QUEUED_BYTES = 64 * 1024 * 1024;
/** Writes, reads and `durable()` calls waiting on the log beyond which new ones are refused. */
export const MAX_CHAIN_PENDING_OPERATIONS = 65_536;

/**
 * With `batch` sync, fdatasyncs of a log's active segment in flight at once. Two: a batch taken
 * while one sync runs starts its own at once instead of waiting for it, and each sync covers
 * every write made before it started (the earlier batch's too). On this kind of virtual disk two
 * overlapping syncs take about as long as one, so a batch's wait nearly halves.
 */
export const MAX_CHAIN_BATCH_SYNCS_IN_FLIGHT = 2;

assert(MIN_CHAIN_SEGMENT_BYTES <= DEFAULT_CHAIN_SEGMENT_BYTES, 'default segment below the minimum');
assert(DEFAULT_CHAIN_SEGMENT_BYTES <= MAX_CHAIN_SEGMENT_BYTES, 'default segment above the maximum');
assert(MAX_CHAIN_RECORD_BYTES <= MAX_CHAIN_QUEUED_BYTES, 'a largest record must fit the write queue');
assert(CHAIN_INDEX_INTERVAL_BYTES < CHAIN_READ_CHUNK_BYTES, 'a read chunk must span an index interval');
