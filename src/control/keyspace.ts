/**
 * The mesh's keyspace: where each kind of record lives under the plane's root (by default
 * `/meshos/v1/`; the version is part of the root so a layout change can live beside the old one
 * during an upgrade). Every layer builds its keys here, so a path is spelled once. The layout is
 * documented in docs/CONTROL_PLANE.md.
 */
import { isNodeId, type NodeId, nodeIdFromText } from '../lib/index.js';
import { ControlBadKeyError } from './errors.js';

/** The layout's version, part of the default root. */
export const KEYSPACE_VERSION = 'v1';

/** The root every key lives under unless a deployment picks another (say, two meshes on one etcd). */
export const DEFAULT_CONTROL_ROOT = `/meshos/${KEYSPACE_VERSION}/`;

/** Longest name segment (a chain, daemon or group name, an action id), in characters. */
export const MAX_NAME_SEGMENT_CHARACTERS = 128;

const NAME_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Digits of an audit sequence number in its key, so that keys sort in sequence order. */
export const AUDIT_SEQUENCE_DIGITS = 16;

/** The prefix of each kind of record, relative to the root. */
export const KEYSPACE_PREFIXES = {
  /** `nodes/<nodeId>`: a node's registration, under the node's lease. */
  nodes: 'nodes/',
  /** `chains/<name>`: a causal event chain's definition. */
  chains: 'chains/',
  /** `daemons/<name>`: a daemon's desired spec. */
  daemons: 'daemons/',
  /** `groups/<name>`: a standby, replica or fork group's definition. */
  groups: 'groups/',
  /** `placement/<daemon>`: which node runs a daemon (written by the reconciler). */
  placement: 'placement/',
  /** `maintenance/<nodeId>`: a node marked for drain or maintenance. */
  maintenance: 'maintenance/',
  /** `actions/<id>`: an operator's requested action and its outcome. */
  actions: 'actions/',
  /** `audit/<sequence>`: who changed what, in order. */
  audit: 'audit/',
  /** `proximity/<nodeId>`: a node's measured RTT and health of its peers, under the node's lease. */
  proximity: 'proximity/',
  /**
   * `reconcile/...`: the reconciler's records (docs/RECONCILE.md): `reports/<nodeId>` (what a
   * node runs, under its lease), `backoff/<daemon>/<nodeId>`, `restarts/<nodeId>/<daemon>`,
   * `avoid/<nodeId>` (under a lease of the entry's TTL), `desired/<daemon>` (an operator's member
   * count), `operator-avoid/<nodeId>` (an operator's avoid request, under a lease of its TTL).
   */
  reconcile: 'reconcile/',
  /** `blobs/<id>`: a blob's size, copies asked for and holders (docs/BLOBS.md). */
  blobs: 'blobs/',
  /** `blob-heat/<nodeId>`: a node's read heat per blob, under the node's lease. */
  blobHeat: 'blob-heat/',
  /**
   * `chain-trim/<chain>/floor` (the offset below which the chain's replicas may drop whole
   * segments) and `chain-trim/<chain>/checkpoints/<nodeId>` (a daemon member's latest durable
   * checkpoint offset on that chain): docs/CHAINS.md "Trim floor".
   */
  chainTrim: 'chain-trim/',
} as const;

export type KeyspaceKind = keyof typeof KEYSPACE_PREFIXES;

function nameSegment(kind: KeyspaceKind, name: string): string {
  if (name.length > MAX_NAME_SEGMENT_CHARACTERS || !NAME_SEGMENT.test(name)) {
    throw new ControlBadKeyError(
      `${KEYSPACE_PREFIXES[kind]}${name}`,
      `a ${kind} name is 1 to ${MAX_NAME_SEGMENT_CHARACTERS} of A-Z a-z 0-9 . _ - starting with a letter or digit`,
    );
  }
  return `${KEYSPACE_PREFIXES[kind]}${name}`;
}

function nodeSegment(kind: KeyspaceKind, id: NodeId): string {
  if (!isNodeId(id)) throw new ControlBadKeyError(`${KEYSPACE_PREFIXES[kind]}${id}`, 'not a node id');
  return `${KEYSPACE_PREFIXES[kind]}${id}`;
}

export const nodeKey = (id: NodeId): string => nodeSegment('nodes', id);
/** The last worker node id handed out (workers take the next one with a compare-and-swap). */
export const WORKER_ID_COUNTER_KEY = 'node-ids/last-worker';
/**
 * Held by the node that coordinates chain placement and repair, under that node's lease (created
 * only if absent, so one node holds it at a time; the others wait for it to disappear).
 */
export const CHAINS_COORDINATOR_KEY = 'chains-coordinator';
/** Held, the same way, by the node that promotes a standby when a daemon's active node leaves. */
export const DAEMONS_COORDINATOR_KEY = 'daemons-coordinator';
/**
 * The audit chain's last record (its seq and hash): the reconciler appends with a compare-and-swap
 * on it, so a second writer cannot fork the chain. Outside `audit/`, so listing the records skips it.
 */
export const AUDIT_HEAD_KEY = 'audit-head';
/** The last record trimmed from the audit chain (its seq and hash): the first kept record links to it. */
export const AUDIT_ANCHOR_KEY = 'audit-anchor';
/** Held, the same way, by the one node that runs reconcile passes for the whole mesh. */
export const RECONCILER_KEY = 'reconciler';
export const reconcileReportsPrefix = `${KEYSPACE_PREFIXES.reconcile}reports/`;
export const reconcileBackoffPrefix = `${KEYSPACE_PREFIXES.reconcile}backoff/`;
export const reconcileAvoidPrefix = `${KEYSPACE_PREFIXES.reconcile}avoid/`;
export const reconcileDesiredPrefix = `${KEYSPACE_PREFIXES.reconcile}desired/`;
export const reconcileOperatorAvoidPrefix = `${KEYSPACE_PREFIXES.reconcile}operator-avoid/`;
/** An operator's request that placement skip node `id` (`meshos node avoid`), under a lease of its TTL. */
export const reconcileOperatorAvoidKey = (id: NodeId): string =>
  `${reconcileOperatorAvoidPrefix}${nodeSegment('nodes', id).slice(KEYSPACE_PREFIXES.nodes.length)}`;
/** An operator's member count for a daemon, apart from what its definition places now. */
export const reconcileDesiredKey = (daemon: string): string =>
  `${reconcileDesiredPrefix}${nameSegment('daemons', daemon).slice(KEYSPACE_PREFIXES.daemons.length)}`;
export const reconcileReportKey = (id: NodeId): string =>
  `${reconcileReportsPrefix}${nodeSegment('nodes', id).slice(KEYSPACE_PREFIXES.nodes.length)}`;
export const reconcileAvoidKey = (id: NodeId): string =>
  `${reconcileAvoidPrefix}${nodeSegment('nodes', id).slice(KEYSPACE_PREFIXES.nodes.length)}`;
export const reconcileBackoffKey = (daemon: string, id: NodeId): string =>
  `${reconcileBackoffPrefix}${nameSegment('daemons', daemon).slice(KEYSPACE_PREFIXES.daemons.length)}/${nodeSegment('nodes', id).slice(KEYSPACE_PREFIXES.nodes.length)}`;
/** Where node `id` finds the restarts the reconciler asked of it. */
export const reconcileRestartsPrefix = (id: NodeId): string =>
  `${KEYSPACE_PREFIXES.reconcile}restarts/${nodeSegment('nodes', id).slice(KEYSPACE_PREFIXES.nodes.length)}/`;
export const reconcileRestartKey = (id: NodeId, daemon: string): string =>
  `${reconcileRestartsPrefix(id)}${nameSegment('daemons', daemon).slice(KEYSPACE_PREFIXES.daemons.length)}`;
export const maintenanceKey = (id: NodeId): string => nodeSegment('maintenance', id);
export const proximityKey = (id: NodeId): string => nodeSegment('proximity', id);
export const chainKey = (name: string): string => nameSegment('chains', name);
export const daemonKey = (name: string): string => nameSegment('daemons', name);
export const groupKey = (name: string): string => nameSegment('groups', name);
export const placementKey = (daemon: string): string => nameSegment('placement', daemon);
export const actionKey = (id: string): string => nameSegment('actions', id);
export const blobKey = (id: string): string => nameSegment('blobs', id);
export const blobHeatKey = (id: NodeId): string => nodeSegment('blobHeat', id);

export function auditKey(sequence: number): string {
  if (!Number.isSafeInteger(sequence) || sequence < 0 || String(sequence).length > AUDIT_SEQUENCE_DIGITS) {
    throw new ControlBadKeyError(`audit/${sequence}`, 'an audit sequence is a non-negative safe integer');
  }
  return `${KEYSPACE_PREFIXES.audit}${String(sequence).padStart(AUDIT_SEQUENCE_DIGITS, '0')}`;
}

const AUDIT_KEY_PATTERN = new RegExp(`^${KEYSPACE_PREFIXES.audit}(\\d{${AUDIT_SEQUENCE_DIGITS}})$`);

/** The sequence an `audit/` key names, undefined when it is not one `auditKey` builds. */
export function auditSequenceOfKey(key: string): number | undefined {
  const digits = AUDIT_KEY_PATTERN.exec(key)?.[1];
  if (digits === undefined) return undefined;
  const sequence = Number(digits);
  return Number.isSafeInteger(sequence) ? sequence : undefined;
}

/** The node id a `nodes/`, `maintenance/` or `proximity/` key names, undefined for any other key. */
export function nodeIdOfKey(key: string): NodeId | undefined {
  for (const prefix of [
    KEYSPACE_PREFIXES.nodes,
    KEYSPACE_PREFIXES.maintenance,
    KEYSPACE_PREFIXES.proximity,
  ]) {
    if (!key.startsWith(prefix)) continue;
    return nodeIdFromText(key.slice(prefix.length));
  }
  return undefined;
}
