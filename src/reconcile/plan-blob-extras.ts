/**
 * Blob copies beyond what is asked for (MeshOS's addition to seed 002, which has no drop for
 * blobs): once a blob has at least its replica count on nodes that keep copies, the record's
 * other holders go (a node down past the grace, or draining: their copies no longer count), and
 * so do copies on kept nodes beyond the count (a node back after its copy was replaced), each as
 * `DropBlobCopy`. Only up nodes' copies beyond the count are dropped, the count is never
 * undercut, and nothing is dropped while a migration or a drop of the blob is pending.
 */
import type { NodeId } from '../lib/index.js';
import type { Emitter } from './emitter.js';
import type { BlobSpec } from './state.js';
import type { BlobState } from './view.js';

/**
 * Drops what `blob` holds beyond `spec.replicas`. `staying` are its holders on nodes that keep
 * copies (at least `spec.replicas` of them); `held` counts the copies per node (the fullest
 * gives one up first).
 */
export function dropExtraCopies(
  out: Emitter,
  spec: BlobSpec,
  blob: BlobState,
  staying: readonly NodeId[],
  held: ReadonlyMap<NodeId, number>,
): void {
  const { view } = out;
  if (view.blobsMigrating.has(spec.id)) return;
  const kept = new Set(staying);
  for (const node of blob.holders.filter((holder) => !kept.has(holder)).sort((a, b) => a - b))
    out.emit({ kind: 'DropBlobCopy', blob: spec.id, node });
  const extra = staying.length - spec.replicas;
  if (extra <= 0) return;
  const reader = blob.hottestReader;
  const droppable = staying
    .filter((node) => view.isUp(node))
    .sort(
      (a, b) =>
        Number(a === reader) - Number(b === reader) || (held.get(b) ?? 0) - (held.get(a) ?? 0) || b - a,
    );
  for (const node of droppable.slice(0, extra)) out.emit({ kind: 'DropBlobCopy', blob: spec.id, node });
}
