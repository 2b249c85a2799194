/**
 * What the control plane keeps about blobs. `blobs/<id>`: a blob's size, the copies asked for
 * and the nodes holding one (changed by compare-and-swap), and the heat reconcile took off it
 * (`cooling`). `blob-heat/<node>`: a node's read heat per blob, under its registration lease, so
 * a node's reads stop counting when it leaves.
 */
import { InputProblems, isNodeId, type NodeId } from '../lib/index.js';
import { type BlobId, isBlobId } from './blob-id.js';
import { MAX_BLOB_BYTES, MAX_BLOB_REPLICAS, MAX_HEAT_ENTRIES_PER_NODE } from './limits.js';

/** Heat reconcile took off a blob (ReduceHeat), decaying like read heat, and the last action applied. */
export interface BlobCooling {
  readonly heat: number;
  readonly atWallMs: number;
  readonly lastActionId: number;
}

export interface BlobRecord {
  readonly id: BlobId;
  readonly size: number;
  /** Copies asked for. */
  readonly replicas: number;
  /** Nodes holding a durable, checked copy, ascending. */
  readonly holders: readonly NodeId[];
  readonly createdAtWallMs: number;
  readonly cooling?: BlobCooling;
}

/** One node's read heat per blob at `atWallMs`. */
export interface BlobHeatRow {
  readonly node: NodeId;
  readonly atWallMs: number;
  readonly heats: readonly (readonly [BlobId, number])[];
}

function isFiniteAtLeastZero(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Checks a parsed `blobs/<id>` record (a RecordReader): throws ValidationError listing every problem. */
export function readBlobRecord(value: unknown): BlobRecord {
  const problems = new InputProblems();
  if (!problems.record('blob record', value)) problems.throwIfAny('blob record');
  const fields = value as Record<string, unknown>;
  if (typeof fields.id !== 'string' || !isBlobId(fields.id)) problems.add('id must be a blob id');
  problems.integer('size', fields.size, 0, MAX_BLOB_BYTES);
  problems.integer('replicas', fields.replicas, 1, MAX_BLOB_REPLICAS);
  if (!Array.isArray(fields.holders) || !fields.holders.every(isNodeId))
    problems.add('holders must be a list of node ids');
  problems.nonNegativeNumber('createdAtWallMs', fields.createdAtWallMs);
  const cooling = fields.cooling;
  if (cooling !== undefined) {
    if (problems.record('cooling', cooling)) {
      problems.nonNegativeNumber('cooling.heat', cooling.heat);
      problems.nonNegativeNumber('cooling.atWallMs', cooling.atWallMs);
      problems.integer('cooling.lastActionId', cooling.lastActionId, 0, Number.MAX_SAFE_INTEGER);
    }
  }
  problems.throwIfAny('blob record');
  return value as unknown as BlobRecord;
}

/** Checks a parsed `blob-heat/<node>` row (a RecordReader). */
export function readBlobHeatRow(value: unknown): BlobHeatRow {
  const problems = new InputProblems();
  if (!problems.record('blob heat row', value)) problems.throwIfAny('blob heat row');
  const fields = value as Record<string, unknown>;
  problems.nodeId('node', fields.node);
  problems.nonNegativeNumber('atWallMs', fields.atWallMs);
  const heats = fields.heats;
  if (
    !Array.isArray(heats) ||
    heats.length > MAX_HEAT_ENTRIES_PER_NODE ||
    !heats.every(
      (entry) =>
        Array.isArray(entry) &&
        entry.length === 2 &&
        typeof entry[0] === 'string' &&
        isBlobId(entry[0]) &&
        isFiniteAtLeastZero(entry[1]),
    )
  )
    problems.add(`heats must be at most ${MAX_HEAT_ENTRIES_PER_NODE} [blob id, heat >= 0] pairs`);
  problems.throwIfAny('blob heat row');
  return value as unknown as BlobHeatRow;
}

/** The record with `node` among its holders (the same record when it already is). */
export function withHolder(record: BlobRecord, node: NodeId): BlobRecord {
  if (record.holders.includes(node)) return record;
  return { ...record, holders: [...record.holders, node].sort((a, b) => a - b) };
}

/** The record without `node` among its holders (the same record when it is not). */
export function withoutHolder(record: BlobRecord, node: NodeId): BlobRecord {
  if (!record.holders.includes(node)) return record;
  return { ...record, holders: record.holders.filter((holder) => holder !== node) };
}
