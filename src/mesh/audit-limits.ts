/**
 * The audit chain's limits, with their units in the names. One batch is one control-plane
 * transaction, so a batch's records, the head, the anchor and the trimmed keys together stay
 * within MAX_CONTROL_TXN_OPERATIONS and MAX_CONTROL_TXN_BYTES (and so within etcd 3.4's limits).
 */
import { MAX_CONTROL_TXN_BYTES, MAX_CONTROL_TXN_OPERATIONS } from '../control/index.js';
import { assert } from '../lib/index.js';

/** Records appended by one write (one transaction), a gap record included. */
export const AUDIT_BATCH_RECORDS = 28;

/**
 * Entries the recorder holds while they wait for their write (the batch in flight included).
 * Past it, new entries are dropped and counted; the count goes into the chain as a gap record.
 */
export const AUDIT_BUFFER_RECORDS = 4_096;

/** Records kept in the control plane; older ones are trimmed and summed up by the anchor. */
export const AUDIT_RETAINED_RECORDS = 10_000;

/** Oldest records deleted by one write when more than AUDIT_RETAINED_RECORDS are kept. */
export const AUDIT_TRIM_RECORDS_PER_WRITE = 32;

/** A failure reason longer than this is cut (owners' error messages can be long). */
export const MAX_AUDIT_REASON_CHARACTERS = 1_000;

/** Largest encoded record; actions are bounded (names, member lists), reasons are cut. */
export const MAX_AUDIT_RECORD_BYTES = 16 * 1024;

/** Longest a closing feed waits for its last records to be written before it gives up on them. */
export const AUDIT_CLOSE_TIMEOUT_MS = 3_000;

/** Records read per page when listing or verifying the chain. */
export const AUDIT_READ_PAGE_RECORDS = 1_000;

/** Operations besides records and trims in one write: the head put and the anchor put. */
const AUDIT_WRITE_FIXED_OPERATIONS = 2;

assert(
  AUDIT_BATCH_RECORDS + AUDIT_TRIM_RECORDS_PER_WRITE + AUDIT_WRITE_FIXED_OPERATIONS <=
    MAX_CONTROL_TXN_OPERATIONS,
  'one audit write must fit a control-plane transaction',
);
assert(
  AUDIT_TRIM_RECORDS_PER_WRITE >= AUDIT_BATCH_RECORDS,
  'trimming must keep up with appending, or the kept records would grow past the retention',
);
/** The record a trim anchors to must be stored already, not in the batch being written. */
export const MIN_AUDIT_RETAINED_RECORDS = AUDIT_BATCH_RECORDS + AUDIT_TRIM_RECORDS_PER_WRITE;

assert(AUDIT_RETAINED_RECORDS > MIN_AUDIT_RETAINED_RECORDS, 'the retention must leave room for a trim');
assert(
  AUDIT_BATCH_RECORDS * MAX_AUDIT_RECORD_BYTES * 2 <= MAX_CONTROL_TXN_BYTES,
  'a full batch of the largest records (and their keys, head and anchor) must fit a transaction',
);
assert(AUDIT_BUFFER_RECORDS >= AUDIT_BATCH_RECORDS, 'the buffer must hold at least one batch');
