/** Named limits of deployed daemons on the cluster (docs/DAEMONS.md "Deploying"). */
import { MAX_CHAIN_REPLICAS } from '../chains/index.js';

/** Most members of one daemon: each has its own node, and each node holds a replica of its chains. */
export const MAX_DAEMON_MEMBERS = MAX_CHAIN_REPLICAS;
/** A standby group has an active and at least one standby. */
export const MIN_STANDBY_GROUP_MEMBERS = 2;
/**
 * A daemon's chains have at least this many replicas (its members' nodes first, then the least
 * loaded others) when the mesh has the nodes: a single daemon's events survive its node.
 */
export const MIN_DAEMON_CHAIN_REPLICAS = 3;
/**
 * Longest daemon name, in characters: its chains are named `daemon.<name>.inbound` and
 * `daemon.<name>.outputs`, which must fit the keyspace's 128-character name segment.
 */
export const MAX_DAEMON_NAME_CHARACTERS = 100;
/** Longest kind name, in characters. */
export const MAX_DAEMON_KIND_NAME_CHARACTERS = 64;
/** Largest event payload a daemon takes, in bytes (the inbound record adds a small header). */
export const MAX_DAEMON_EVENT_BYTES = 256 * 1024;
/** Longest client id of an event, in characters. */
export const MAX_DAEMON_CLIENT_ID_CHARACTERS = 256;
/** Longest routing key of an event, in characters. */
export const MAX_DAEMON_EVENT_KEY_CHARACTERS = 1_024;
/**
 * How long a member's node must be gone (its registration expired) before the coordinator puts
 * a new member on another node in its place (`--daemon-repair-grace-ms`): long enough that a
 * restarting node keeps its member, which rebuilds itself from the chain.
 */
export const DEFAULT_DAEMON_REPAIR_GRACE_MS = 60_000;
/** Bounds of a configured grace period: at least a second, at most a week. */
export const MIN_DAEMON_REPAIR_GRACE_MS = 1_000;
export const MAX_DAEMON_REPAIR_GRACE_MS = 7 * 24 * 3_600_000;

/** What is wrong with a configured repair grace period (empty when nothing). */
export function daemonRepairGraceProblems(graceMs: number): string[] {
  if (
    Number.isSafeInteger(graceMs) &&
    graceMs >= MIN_DAEMON_REPAIR_GRACE_MS &&
    graceMs <= MAX_DAEMON_REPAIR_GRACE_MS
  )
    return [];
  return [
    `the daemon repair grace period must be whole milliseconds from ${MIN_DAEMON_REPAIR_GRACE_MS} to ${MAX_DAEMON_REPAIR_GRACE_MS}, got ${graceMs}`,
  ];
}
