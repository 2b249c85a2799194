/**
 * Blob records and heat rows as reconcile and `blob status` see them: a blob's heat is what its
 * readers report, each decayed to now, less the heat reconcile took off (`cooling`, decaying the
 * same way), never below 0; its hottest reader is the node whose reads weigh most. Pure.
 */
import type { NodeId } from '../lib/index.js';
import type { BlobSpec, ObservedBlob } from '../reconcile/index.js';
import type { BlobId } from './blob-id.js';
import { decayedHeat } from './heat.js';
import type { BlobHeatRow, BlobRecord } from './records.js';

export interface BlobReaderHeat {
  readonly node: NodeId;
  readonly heat: number;
}

export interface BlobStatus {
  readonly id: BlobId;
  readonly size: number;
  readonly replicas: number;
  /** Each holder with the heat of reads through it. */
  readonly holders: readonly BlobReaderHeat[];
  /** Every node that reads it (holders or not), hottest first. */
  readonly readers: readonly BlobReaderHeat[];
  /** Its heat: the readers' sum less what reconcile cooled, at least 0. */
  readonly heat: number;
}

/** Each node's heat of each blob at `nowWallMs`. */
export function heatsByBlob(
  rows: readonly BlobHeatRow[],
  nowWallMs: number,
): Map<BlobId, Map<NodeId, number>> {
  const byBlob = new Map<BlobId, Map<NodeId, number>>();
  for (const row of rows) {
    for (const [id, heat] of row.heats) {
      let readers = byBlob.get(id);
      if (readers === undefined) {
        readers = new Map();
        byBlob.set(id, readers);
      }
      readers.set(row.node, decayedHeat(heat, row.atWallMs, nowWallMs));
    }
  }
  return byBlob;
}

export function blobStatusOf(
  record: BlobRecord,
  readers: ReadonlyMap<NodeId, number> | undefined,
  nowWallMs: number,
): BlobStatus {
  const reads = [...(readers ?? new Map<NodeId, number>())]
    .map(([node, heat]) => ({ node, heat }))
    .sort((a, b) => b.heat - a.heat || a.node - b.node);
  const total = reads.reduce((sum, reader) => sum + reader.heat, 0);
  const cooled =
    record.cooling === undefined ? 0 : decayedHeat(record.cooling.heat, record.cooling.atWallMs, nowWallMs);
  return {
    id: record.id,
    size: record.size,
    replicas: record.replicas,
    holders: record.holders.map((node) => ({ node, heat: readers?.get(node) ?? 0 })),
    readers: reads,
    heat: Math.max(0, total - cooled),
  };
}

/**
 * What reconcile gets about blobs: observed holders, heat (whole reads, as reconcile counts it) and
 * hottest reader; desired replica counts. With `known` (the nodes reconcile observes), only those
 * count as holders or readers: a copy on a node that left the mesh is no copy. Without it every
 * node named counts (a reconciler that observes departed nodes as down, with their grace period).
 */
export function observeBlobs(
  records: readonly BlobRecord[],
  rows: readonly BlobHeatRow[],
  nowWallMs: number,
  known?: ReadonlySet<NodeId>,
): { readonly observed: ObservedBlob[]; readonly desired: BlobSpec[] } {
  const counts = (node: NodeId): boolean => known === undefined || known.has(node);
  const heats = heatsByBlob(rows, nowWallMs);
  const observed: ObservedBlob[] = [];
  const desired: BlobSpec[] = [];
  for (const record of records) {
    const status = blobStatusOf(record, heats.get(record.id), nowWallMs);
    const hottest = status.readers.find((reader) => counts(reader.node));
    const heat = Math.floor(status.heat);
    observed.push({
      id: record.id,
      holders: record.holders.filter(counts),
      heat,
      ...(hottest === undefined || heat === 0 ? {} : { hottestReader: hottest.node }),
    });
    desired.push({ id: record.id, replicas: record.replicas });
  }
  return { observed, desired };
}
