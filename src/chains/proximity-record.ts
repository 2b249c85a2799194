/**
 * A node's row as stored under `proximity/<node>`: JSON, one entry per peer, so operators can
 * read it with etcdctl and the follower can check it.
 */
import { encodeRecord, nodeIdOfKey, proximityKey, readRecord } from '../control/index.js';
import { InputProblems, isRecord, type NodeId } from '../lib/index.js';
import { MAX_PROXIMITY_PEERS } from './proximity-limits.js';
import type { PeerProximity, ProximityRow } from './proximity-matrix.js';

interface StoredPeer {
  readonly node: NodeId;
  readonly rttMs?: number;
  readonly healthy: boolean;
}

interface StoredRow {
  readonly node: NodeId;
  readonly publishedAtMs: number;
  readonly peers: readonly StoredPeer[];
}

export function encodeProximityRow(row: ProximityRow): Uint8Array {
  const stored: StoredRow = {
    node: row.node,
    publishedAtMs: row.publishedAtMs,
    peers: [...row.peers]
      .sort(([a], [b]) => a - b)
      .map(([node, sample]) =>
        sample.rttMs === undefined ? { node, healthy: sample.healthy } : { node, ...sample },
      ),
  };
  return encodeRecord(proximityKey(row.node), stored);
}

/** The row stored under `key`; CONTROL_RECORD_DECODE when it is not one. */
export function decodeProximityRow(key: string, bytes: Uint8Array): ProximityRow {
  return readRecord(key, bytes, (value) => {
    const row = readRow(value);
    if (nodeIdOfKey(key) !== row.node) throw new Error(`the row of node ${row.node} is under ${key}`);
    return row;
  });
}

function readRow(value: unknown): ProximityRow {
  const problems = new InputProblems();
  if (!problems.record('row', value)) problems.throwIfAny('proximity row');
  const stored = value as Record<string, unknown>;
  problems.nodeId('node', stored.node);
  problems.nonNegativeNumber('publishedAtMs', stored.publishedAtMs);
  const peers = new Map<NodeId, PeerProximity>();
  if (!Array.isArray(stored.peers) || stored.peers.length > MAX_PROXIMITY_PEERS) {
    problems.add(`peers must be a list of at most ${MAX_PROXIMITY_PEERS}`);
  } else {
    for (const [index, peer] of stored.peers.entries()) {
      const entry = readPeer(problems, `peers[${index}]`, peer);
      if (entry !== undefined) peers.set(entry[0], entry[1]);
    }
  }
  problems.throwIfAny('proximity row');
  return { node: stored.node as NodeId, publishedAtMs: stored.publishedAtMs as number, peers };
}

function readPeer(
  problems: InputProblems,
  field: string,
  value: unknown,
): readonly [NodeId, PeerProximity] | undefined {
  if (!isRecord(value)) {
    problems.add(`${field} must be an object`);
    return undefined;
  }
  const before = problems.list.length;
  problems.nodeId(`${field}.node`, value.node);
  problems.boolean(`${field}.healthy`, value.healthy);
  if (value.rttMs !== undefined) problems.nonNegativeNumber(`${field}.rttMs`, value.rttMs);
  if (problems.list.length > before) return undefined;
  const healthy = value.healthy as boolean;
  return [
    value.node as NodeId,
    value.rttMs === undefined ? { healthy } : { rttMs: value.rttMs as number, healthy },
  ];
}
