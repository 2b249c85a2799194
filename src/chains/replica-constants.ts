/**
 * Limits and timings of the chain replica protocol. Each carries its unit in its name; the
 * relations between them are asserted below, so a bad edit fails at load time.
 */
import { assert } from '../lib/index.js';
import { MAX_CHAIN_RECORD_BYTES } from './definition-limits.js';

/** An idle leader sends an empty append this often (it carries the commit offset, renews the lease). */
export const HEARTBEAT_INTERVAL_MS = 100;
/** A leader that heard from no majority of its replicas for this long refuses appends. */
export const EPOCH_LEASE_MS = 800;
/** A follower that heard nothing from its leader for this long suspects it. */
export const LEADER_STALE_MS = 1000;
/** Claims and fetches not answered are sent again this often. */
export const CLAIM_RETRY_INTERVAL_MS = 100;
/** A leader whose claim (promises, fetch, marker) does not finish in this time gives the epoch up. */
export const CLAIM_TIMEOUT_MS = 3000;
/** Appends in flight to a follower without any acknowledgement for this long are sent again. */
export const APPEND_RETRANSMIT_AFTER_MS = 300;

/** Bytes of records in flight to one follower or learner, unacknowledged. */
export const MAX_INFLIGHT_BYTES_PER_FOLLOWER = 8 * 1024 * 1024;
/** Append messages in flight to one follower, unacknowledged. */
export const MAX_INFLIGHT_MESSAGES_PER_FOLLOWER = 256;
/** The leader keeps its newest records in memory up to this size, to push them without reading its log. */
export const LEADER_RECENT_RECORDS_BYTES = 8 * 1024 * 1024;
/** How often a replica checks its timers (heartbeats, retries, staleness). */
export const REPLICA_TICK_INTERVAL_MS = 50;
/** Bytes of records in one append or fetch reply (at least one record is always sent). */
export const MAX_MESSAGE_RECORD_BYTES = 1024 * 1024;
/** Records in one append or fetch reply. */
export const MAX_MESSAGE_RECORDS = 4096;
/** Records counted per entry on top of the payload when sizing messages and windows. */
export const RECORD_OVERHEAD_BYTES = 32;
/** Largest payload of one record on the wire (a chain's own `maxRecordBytes` is at most this). */
export const MAX_RECORD_PAYLOAD_BYTES = MAX_CHAIN_RECORD_BYTES;
/** Records in one `append` call. */
export const MAX_RECORDS_PER_APPEND = 4096;
/** Records written by the leader and not yet acknowledged to their appender. */
export const MAX_PENDING_APPEND_RECORDS = 65_536;
/** Epoch-history entries a claim answer carries (the newest ones). */
export const MAX_CLAIM_HISTORY_ENTRIES = 64;
/** Replicas plus learners of one chain. */
export const MAX_CHAIN_MEMBERS = 32;
/** Bytes of a chain name on the wire. */
export const MAX_CHAIN_NAME_BYTES = 256;

assert(
  REPLICA_TICK_INTERVAL_MS <= HEARTBEAT_INTERVAL_MS,
  'heartbeats are checked at least as often as they are due',
);
assert(
  HEARTBEAT_INTERVAL_MS * 4 <= EPOCH_LEASE_MS,
  'a leader must miss several heartbeat rounds before its lease ends',
);
assert(
  EPOCH_LEASE_MS < LEADER_STALE_MS,
  'a cut-off leader stops accepting appends before its followers suspect it and a new epoch starts',
);
assert(APPEND_RETRANSMIT_AFTER_MS < EPOCH_LEASE_MS, 'lost appends are resent before the lease runs out');
assert(CLAIM_TIMEOUT_MS > LEADER_STALE_MS, 'a claim gets longer than a heartbeat gap to finish');
assert(
  MAX_MESSAGE_RECORD_BYTES <= MAX_INFLIGHT_BYTES_PER_FOLLOWER,
  'one message fits in the inflight window',
);
assert(MAX_RECORD_PAYLOAD_BYTES <= MAX_MESSAGE_RECORD_BYTES, 'the largest record fits in one message');
assert(MAX_RECORDS_PER_APPEND <= MAX_PENDING_APPEND_RECORDS, 'one append fits in the pending backlog');
