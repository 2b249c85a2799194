/**
 * Blob step of a pass. A blob with fewer copies on nodes that keep copies than asked for is
 * copied from a live holder to the least-loaded placeable node (MigrateBlob keeping the source).
 * A blob whose read heat reached BLOB_HOT_HEAT moves from the holder farthest from its hottest
 * reader to that reader (MigrateBlob dropping the source, so the count stays), and its heat is
 * reduced by what triggered the move (ReduceHeat), so it moves again only once reads reheat it.
 * A blob with a migration pending is not moved for heat until that one is done. A blob with its
 * count kept loses its copies beyond it (plan-blob-extras.ts, `DropBlobCopy`).
 */
import type { NodeId } from '../lib/index.js';
import { BLOB_HOT_HEAT, MAX_HEAT_REDUCTION } from './constants.js';
import type { Emitter } from './emitter.js';
import { countPerNode, type NodePicker } from './node-picker.js';
import { dropExtraCopies } from './plan-blob-extras.js';
import { compareText } from './plan-daemons.js';
import type { BlobSpec, DesiredState } from './state.js';
import type { BlobState, MeshView } from './view.js';

export function planBlobs(out: Emitter, desired: DesiredState): void {
  const { view } = out;
  const held = countPerNode([...view.blobs.values()].map((blob) => blob.holders));
  const picker = view.placeablePicker(
    (id) => held.get(id) ?? 0,
    () => Number.POSITIVE_INFINITY,
  );
  for (const spec of [...desired.blobs].sort((a, b) => compareText(a.id, b.id))) {
    const blob = view.blobs.get(spec.id);
    if (blob === undefined) {
      out.block(`blob/${spec.id}`, 'the blob is not stored');
      continue;
    }
    const staying = blob.holders.filter((id) => view.keepsCopies(id));
    if (staying.length < spec.replicas) repair(out, spec, blob, staying, picker);
    else {
      moveTowardReader(out, spec, blob, staying);
      dropExtraCopies(out, spec, blob, staying, held);
    }
  }
}

function repair(
  out: Emitter,
  spec: BlobSpec,
  blob: BlobState,
  staying: readonly NodeId[],
  picker: NodePicker,
): void {
  const { view } = out;
  const sources = [...blob.actualHolders]
    .filter((id) => view.isUp(id))
    .sort((a, b) => sourceOrder(view, a, b));
  const from = sources[0];
  if (from === undefined) {
    out.block(`blob/${spec.id}`, 'no live node holds a copy');
    return;
  }
  const excluded = new Set(blob.holders);
  const zones = new Set(staying.map((id) => view.node(id).observed.zone));
  for (let missing = spec.replicas - staying.length; missing > 0; missing--) {
    const to = picker.pick(excluded, zones);
    if (to === undefined) {
      out.block(
        `blob/${spec.id}`,
        `${spec.replicas} copies asked for, ${spec.replicas - missing} kept: no placeable node`,
      );
      return;
    }
    excluded.add(to);
    zones.add(view.node(to).observed.zone);
    out.emit({ kind: 'MigrateBlob', blob: spec.id, from, to, keepSource: true });
  }
}

function moveTowardReader(out: Emitter, spec: BlobSpec, blob: BlobState, staying: readonly NodeId[]): void {
  const { view } = out;
  const reader = blob.hottestReader;
  if (blob.heat < BLOB_HOT_HEAT || reader === undefined || view.blobsMigrating.has(spec.id)) return;
  if (blob.holders.includes(reader) || !view.isPlaceable(reader)) return;
  const actual = staying.filter((id) => blob.actualHolders.has(id) && view.isUp(id));
  const from = actual.sort((a, b) => farthestFirst(view, reader, a, b))[0];
  if (from === undefined) return;
  out.emit({ kind: 'MigrateBlob', blob: spec.id, from, to: reader, keepSource: false });
  out.emit({ kind: 'ReduceHeat', blob: spec.id, by: Math.min(blob.heat, MAX_HEAT_REDUCTION) });
}

/** A source that stays first (a draining node is busy), then the smallest id. */
function sourceOrder(view: MeshView, a: NodeId, b: NodeId): number {
  const stayingA = view.isStaying(a) ? 0 : 1;
  const stayingB = view.isStaying(b) ? 0 : 1;
  return stayingA - stayingB || a - b;
}

/** The holder with the longest RTT to `reader` first (unmeasured counts as farthest), then the highest id. */
function farthestFirst(view: MeshView, reader: NodeId, a: NodeId, b: NodeId): number {
  const rttA = rttBetween(view, a, reader);
  const rttB = rttBetween(view, b, reader);
  if (rttA !== rttB) return rttB - rttA;
  return b - a;
}

function rttBetween(view: MeshView, from: NodeId, to: NodeId): number {
  for (const row of view.observed.rtt) {
    if ((row.from === from && row.to === to) || (row.from === to && row.to === from)) return row.rttMs;
  }
  return Number.POSITIVE_INFINITY;
}
