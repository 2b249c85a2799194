/**
 * Maintenance step of a pass: for every node with a request or not Active, the next transition
 * of its state machine, judged on what the node really still runs and holds (blob copies its
 * blobs still need elsewhere included, blob-drain.ts). A node whose last
 * transition is still pending waits for it (commits to the control plane go one at a time).
 */
import type { NodeId } from '../lib/index.js';
import { blobCopiesNeededOn } from './blob-drain.js';
import type { Emitter } from './emitter.js';
import { type MaintenanceRequest, nextMaintenanceTransition } from './maintenance.js';
import type { DesiredState } from './state.js';

export function planMaintenance(out: Emitter, desired: DesiredState): void {
  const { view } = out;
  const requests = new Map<NodeId, MaintenanceRequest>();
  for (const request of desired.maintenance) requests.set(request.node, request);
  for (const id of view.nodeIds) {
    const node = view.node(id);
    const request = requests.get(id);
    if (request === undefined && node.maintenance.phase === 'Active') continue;
    if (view.maintenanceCommitsPending.has(id)) continue;
    const { daemons, replicas } = node.observed;
    const copies = blobCopiesNeededOn(view, desired, id);
    const left = {
      daemons: daemons.length,
      replicas: replicas.length,
      blobs: copies.length,
      left: [
        ...daemons.map((daemon) => `daemon ${daemon.name}`),
        ...replicas.map((replica) => `chain ${replica.chain}`),
        ...copies,
      ],
    };
    const target = nextMaintenanceTransition(node.maintenance, request, left, view.time.wallMs);
    if (target !== undefined) out.emit({ kind: 'CommitMaintenanceTransition', node: id, target });
  }
}
