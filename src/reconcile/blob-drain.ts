/**
 * What of a draining node's blob copies a drain still waits for (MeshOS's addition to the seed's
 * maintenance): a copy whose blob has fewer than its replica count on other nodes that keep
 * copies, counting only copies observed (a pending copy is not one yet). Reconcile's blob step
 * makes them (a draining node's copy stops counting); the node reaches Maintenance once none is
 * left.
 */
import type { NodeId } from '../lib/index.js';
import type { DesiredState } from './state.js';
import type { MeshView } from './view.js';

/** One line per copy still needed, as a DrainFailed reason names it. */
export function blobCopiesNeededOn(view: MeshView, desired: DesiredState, node: NodeId): string[] {
  const needed: string[] = [];
  for (const spec of desired.blobs) {
    const holders = view.blobs.get(spec.id)?.actualHolders;
    if (holders === undefined || !holders.has(node)) continue;
    const kept = [...holders].filter((holder) => holder !== node && view.keepsCopies(holder)).length;
    if (kept < spec.replicas)
      needed.push(`blob ${spec.id} (${kept} of ${spec.replicas} copies on other nodes)`);
  }
  return needed.sort();
}
