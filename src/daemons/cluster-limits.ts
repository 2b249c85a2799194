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
