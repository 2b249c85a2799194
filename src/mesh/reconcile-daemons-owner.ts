/**
 * The `daemons` owner of the reconcile service (docs/RECONCILE.md "Owners"): what the reconciler
 * asks of deployed daemons, carried out as fenced writes to the control plane.
 *
 * - `StartDaemon {daemon, node}`: a crashed member restarted on its node, a member of a down node
 *   re-placed on `node`, a lone active of a down node restarted there at a new epoch
 *   (reconcile-daemon-start.ts).
 * - `ApplyBackoff {daemon, node, until}`: `reconcile/backoff/<daemon>/<node>`, under a lease that
 *   ends with the backoff, so the record goes by itself.
 * - `StopDaemon`: the member on the node leaves the definition (reconcile-daemon-stop.ts); none
 *   there: done.
 *
 * Each write carries the term's fence: a holder that lost the lease changes nothing. Every action
 * is idempotent: asked again once done, it finds nothing to change.
 */
import type { StoredChain } from '../chains/index.js';
import { type ControlPlane, reconcileBackoffKey } from '../control/index.js';
import { DaemonDirectory } from '../daemons/directory.js';
import type { DaemonDefinition } from '../daemons/types.js';
import type { Clock, NodeId } from '../lib/index.js';
import type { PendingAction } from '../reconcile/index.js';
import { startDaemon } from './reconcile-daemon-start.js';
import { stopDaemon } from './reconcile-daemon-stop.js';
import { ReconcileActionRefusedError } from './reconcile-errors.js';
import type { ReconcileDispatch, ReconcileOwner } from './reconcile-hub.js';
import type { BackoffRecord } from './reconcile-records.js';
import { fencedPut } from './reconcile-writes.js';

/** Added to a wall-clock time converted from a monotonic one (two clocks read a moment apart). */
export const CLOCK_CONVERSION_MARGIN_MS = 1;

export interface DaemonsOwnerOptions {
  readonly plane: ControlPlane;
  /** Whether a node is registered now (a member on an unregistered node may be re-placed). */
  readonly isRegistered: (node: NodeId) => boolean;
  /** The daemon's chains (a lone active restarted elsewhere leads those its new node replicates). */
  readonly chainsOf?: (daemon: DaemonDefinition) => Promise<readonly StoredChain[]>;
  readonly clock: Clock;
}

export function daemonsOwner(options: DaemonsOwnerOptions): ReconcileOwner {
  const { plane, clock } = options;
  const directory = new DaemonDirectory(plane);
  return {
    async handle(pending: PendingAction, { term }: ReconcileDispatch): Promise<void> {
      const { action } = pending;
      switch (action.kind) {
        case 'StartDaemon':
          return startDaemon({ ...options, directory }, action.daemon, action.node, pending, term);
        case 'StopDaemon':
          return stopDaemon(
            { directory, clock },
            action.daemon,
            action.node,
            action.deadlineMonotonicMs,
            term,
          );
        case 'ApplyBackoff': {
          // Rounded up past the conversion's jitter, so the record never ends before the backoff
          // reconcile computed (it would then ask to commit it again on every pass).
          const untilWallMs =
            Math.ceil(clock.wallMs() + (action.untilMonotonicMs - clock.nowMs())) +
            CLOCK_CONVERSION_MARGIN_MS;
          const record: BackoffRecord = { untilWallMs, actionId: pending.id, epoch: term.epoch };
          const ttlSeconds = Math.ceil((untilWallMs - clock.wallMs()) / 1_000) + 1;
          await fencedPut(plane, term, reconcileBackoffKey(action.daemon, action.node), record, ttlSeconds);
          return;
        }
        default:
          throw new ReconcileActionRefusedError(action.kind, 'the daemons owner does not carry it out');
      }
    },
  };
}
