/**
 * Limits of the Raft core. Each carries its unit in its name; relations between them are
 * asserted below so a bad edit fails at load time rather than in production.
 */
import { assert } from '../lib/index.js';

/** Size of one snapshot chunk sent from a leader to a follower. */
export const SNAPSHOT_CHUNK_BYTES = 64 * 1024;
/** Largest snapshot a follower agrees to reassemble. */
export const MAX_SNAPSHOT_BYTES = 1024 * 1024 * 1024;
/** Bytes counted per entry on top of its payload when sizing appends and inflight windows. */
export const ENTRY_OVERHEAD_BYTES = 16;
/** Reads waiting for a heartbeat round or for the leader's first commit in its term. */
export const MAX_PENDING_READS = 4096;
/** Read states and dropped reads buffered for the host between two `ready()` calls. */
export const MAX_BUFFERED_READ_STATES = 8192;
/** Largest number of entries one append message may carry. */
export const MAX_ENTRIES_PER_APPEND = 16 * 1024;
/** Largest payload of one proposal. */
export const MAX_PROPOSAL_BYTES = 8 * 1024 * 1024;
/** Nodes in one cluster configuration (voters, learners and outgoing voters together). */
export const MAX_CLUSTER_NODES = 256;
/** Length of a read request id, in UTF-16 code units. */
export const MAX_REQUEST_ID_LENGTH = 256;

/**
 * Ticks between the early campaigns of followers that lost their leader's connection, by rank
 * (lowest id first), so the survivors do not split the vote.
 */
export const EARLY_CAMPAIGN_RANK_SPACING_TICKS = 2;
/**
 * After the leader-lost hint, until a leader is known again, election timeouts are drawn from
 * [this, 2 × this) ticks instead of [election, 2 × election): survivors that split the vote, or
 * one whose log is behind, try again within 100-200 ms rather than 1-2 s. Only liveness
 * depends on it; pre-vote keeps a false hint from disturbing a live leader.
 */
export const EARLY_CAMPAIGN_RETRY_TICKS = 10;

/**
 * The one set of Raft timing defaults, used by the server, the mesh node and the CLI. The core
 * counts ticks; a host ticks it every `DEFAULT_TICK_INTERVAL_MS`.
 * Heartbeats every 100 ms and a 1 s election timeout (etcd's defaults): a leader that is merely
 * busy (a long GC pause, a slow fdatasync under load) is not deposed, while a crashed leader is
 * still replaced within tens of ms, because its followers see the connection close and campaign
 * early (`reportLeaderLost`).
 */
export const DEFAULT_TICK_INTERVAL_MS = 10;
export const DEFAULT_HEARTBEAT_TICKS = 10;
export const DEFAULT_ELECTION_TICKS = 100;
/** Append messages in flight to one follower, unacknowledged. */
export const DEFAULT_MAX_INFLIGHT_MESSAGES = 256;
/** Bytes of entries in flight to one follower, unacknowledged. */
export const DEFAULT_MAX_INFLIGHT_BYTES = 32 * 1024 * 1024;
/** Largest append message the leader builds. */
export const DEFAULT_MAX_APPEND_BYTES = 1024 * 1024;

assert(SNAPSHOT_CHUNK_BYTES <= MAX_SNAPSHOT_BYTES, 'a snapshot chunk must fit in the largest snapshot');
assert(MAX_PENDING_READS <= MAX_BUFFERED_READ_STATES, 'every pending read must fit in the read-state buffer');
assert(EARLY_CAMPAIGN_RANK_SPACING_TICKS >= 1, 'early campaigns of different ranks must not share a tick');
assert(
  EARLY_CAMPAIGN_RETRY_TICKS > 2 * EARLY_CAMPAIGN_RANK_SPACING_TICKS,
  'a retried campaign must leave room for the ranked early ones (3 survivors)',
);
assert(
  EARLY_CAMPAIGN_RETRY_TICKS <= DEFAULT_ELECTION_TICKS,
  'retries after the hint are faster than elections',
);
assert(DEFAULT_HEARTBEAT_TICKS < DEFAULT_ELECTION_TICKS, 'heartbeats must be more frequent than elections');
assert(
  DEFAULT_ELECTION_TICKS >= 5 * DEFAULT_HEARTBEAT_TICKS,
  'a follower must miss several heartbeats before it campaigns',
);
assert(DEFAULT_MAX_APPEND_BYTES <= DEFAULT_MAX_INFLIGHT_BYTES, 'one append must fit in the inflight window');
