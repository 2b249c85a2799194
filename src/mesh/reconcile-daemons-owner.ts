/**
 * The `daemons` owner of the reconcile service (docs/RECONCILE.md "Owners"): what the reconciler
 * asks of deployed daemons, carried out as fenced writes to the control plane.
 *
 * - `StartDaemon {daemon, node}`: when the definition places no member on `node`, a member whose
 *   node is down (not registered) is re-placed there by a compare-and-swap of the definition
 *   (the member replays the inbound chain there, as a restarted one does); when it places one
 *   there already, that member crashed and the node is asked to restart it
 *   (`reconcile/restarts/<node>/<daemon>`). An active whose node is down is promoted away by the
 *   daemon coordinator first; a replica group's member is moved by the coordinator at a new epoch.
 * - `ApplyBackoff {daemon, node, until}`: `reconcile/backoff/<daemon>/<node>`, under a lease that
 *   ends with the backoff, so the record goes by itself.
 * - `StopDaemon`: done when no member is on the node; a placed member is moved, never stopped
 *   alone (its definition names it), so the reconciler is told so.
 *
 * Each write carries the term's fence: a holder that lost the lease changes nothing. Every action
 * is idempotent: asked again once done, it finds nothing to change.
 */
import {
  type ControlPlane,
  reconcileBackoffKey,
  reconcileReportKey,
  reconcileRestartKey,
} from '../control/index.js';
import { DaemonDirectory, memberNode, withReplacedMember } from '../daemons/directory.js';
import type { Clock, NodeId } from '../lib/index.js';
import type { PendingAction } from '../reconcile/index.js';
import { ReconcileActionRefusedError, ReconcileTermFencedError } from './reconcile-errors.js';
import type { ReconcileDispatch, ReconcileOwner, ReconcileTerm } from './reconcile-hub.js';
import { type BackoffRecord, type RestartRecord, readNodeReport } from './reconcile-records.js';
import { fencedPut } from './reconcile-writes.js';

/** Added to a wall-clock time converted from a monotonic one (two clocks read a moment apart). */
export const CLOCK_CONVERSION_MARGIN_MS = 1;
/** A restart request the node did not take up (it went down) is gone after this. */
export const RESTART_REQUEST_TTL_SECONDS = 60;

export interface DaemonsOwnerOptions {
  readonly plane: ControlPlane;
  /** Whether a node is registered now (a member on an unregistered node may be re-placed). */
  readonly isRegistered: (node: NodeId) => boolean;
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
          return startDaemon(directory, options, action.daemon, action.node, pending, term);
        case 'StopDaemon': {
          const stored = await directory.get(action.daemon);
          if (stored?.definition.members.some((member) => member.node === action.node) === true)
            throw new ReconcileActionRefusedError(
              action.kind,
              `daemon ${action.daemon}'s member on node ${action.node} is placed by its definition: it is moved (meshos daemon move), not stopped alone`,
            );
          return;
        }
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

async function startDaemon(
  directory: DaemonDirectory,
  options: DaemonsOwnerOptions,
  daemon: string,
  node: NodeId,
  pending: PendingAction,
  term: ReconcileTerm,
): Promise<void> {
  const stored = await directory.get(daemon);
  // Removed meanwhile: nothing to start.
  if (stored === undefined) return;
  const { definition } = stored;
  if (definition.members.some((member) => member.node === node)) {
    // The crashes the node reported so far: the node restarts only a member that has not crashed since.
    const reportEntry = await options.plane.get(reconcileReportKey(node));
    const reported =
      reportEntry === undefined
        ? undefined
        : readNodeReport(reportEntry.key, reportEntry.value).daemons.find((member) => member.name === daemon);
    const record: RestartRecord = {
      actionId: pending.id,
      epoch: term.epoch,
      crashes: reported?.crashes ?? 0,
    };
    await fencedPut(
      options.plane,
      term,
      reconcileRestartKey(node, daemon),
      record,
      RESTART_REQUEST_TTL_SECONDS,
    );
    return;
  }
  if (definition.group === 'replica')
    throw new ReconcileActionRefusedError(
      'StartDaemon',
      `daemon ${daemon} is a replica group: the daemon coordinator moves its members at a new epoch`,
    );
  const gone = definition.members.filter((member) => !options.isRegistered(member.node));
  const movable = gone.find((member) => member.index !== definition.active);
  if (movable === undefined) {
    const activeNode = memberNode(definition, definition.active);
    throw new ReconcileActionRefusedError(
      'StartDaemon',
      activeNode !== undefined && !options.isRegistered(activeNode)
        ? `daemon ${daemon}'s active is on node ${activeNode}, which is down: it is promoted away first`
        : `daemon ${daemon} has no member on a down node to re-place on node ${node}`,
    );
  }
  const answer = await directory.swap(
    stored,
    withReplacedMember(definition, movable.index, node),
    term.fence,
  );
  if (answer.applied) return;
  if (answer.fenced) throw new ReconcileTermFencedError(term.epoch);
  throw new ReconcileActionRefusedError('StartDaemon', `daemon ${daemon}'s definition changed meanwhile`);
}
