/**
 * The reconcile service's `maintenance` owner: carries out `CommitMaintenanceTransition` by
 * committing the target state to the node's maintenance record (a compare-and-swap joined by the
 * reconciler term's fence; the same phase again is a no-op, so an action repeated after a lost
 * answer changes nothing). Resolving completes the action; a step the node's machine lacks
 * rejects with MAINTENANCE_TRANSITION_INVALID, a term that ended with MAINTENANCE_WRITE_FENCED.
 *
 * A drain's outcome (Maintenance, DrainFailed) of a node that is up is its own agent's to commit:
 * the agent sees what the node holds in the definitions (chain replicas included) and why each
 * thing did not move, the reconciler's view may lack both. So the owner refuses those for a node
 * that is up (MAINTENANCE_OUTCOME_BY_NODE) and commits them for a node that is down, whose agent
 * cannot. Every other step is the same decision both make from the same request.
 */
import type { ControlCompare } from '../control/index.js';
import type { NodeId } from '../lib/index.js';
import type { PendingAction } from '../reconcile/index.js';
import { MaintenanceOutcomeByNodeError } from './maintenance-errors.js';
import type { MaintenanceStore } from './maintenance-store.js';

/** What the reconciler hands an owner with each action: its term's fence. */
export interface OwnerDispatch {
  readonly term: { readonly fence: readonly ControlCompare[] };
}

export interface MaintenanceOwnerOptions {
  /** Whether a node is up (registered): its agent judges its drain. Absent: every node is down. */
  readonly isUp?: (node: NodeId) => boolean;
}

export class MaintenanceOwner {
  /** Commits that changed a record, and those that found it in the target's phase already. */
  committed = 0;
  unchanged = 0;

  constructor(
    private readonly store: MaintenanceStore,
    private readonly options: MaintenanceOwnerOptions = {},
  ) {}

  async handle(pending: PendingAction, dispatch?: OwnerDispatch): Promise<void> {
    const { action } = pending;
    if (action.kind !== 'CommitMaintenanceTransition')
      throw new Error(`the maintenance owner does not carry out ${action.kind}`);
    const { node, target } = action;
    if (
      (target.phase === 'Maintenance' || target.phase === 'DrainFailed') &&
      this.options.isUp?.(node) === true
    )
      throw new MaintenanceOutcomeByNodeError(node, target.phase);
    const answer = await this.store.commit(node, target, dispatch?.term.fence ?? []);
    if (answer.changed) this.committed += 1;
    else this.unchanged += 1;
  }
}
