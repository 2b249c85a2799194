/**
 * The reconcile service's `maintenance` owner: carries out `CommitMaintenanceTransition` by
 * committing the target state to the node's maintenance record (a compare-and-swap joined by the
 * reconciler term's fence; the same phase again is a no-op, so an action repeated after a lost
 * answer changes nothing). Resolving completes the action; a step the node's machine lacks
 * rejects with MAINTENANCE_TRANSITION_INVALID, and a term that ended with MAINTENANCE_WRITE_FENCED
 * (reconcile asks again on a later pass if it still wants the change).
 */
import type { ControlCompare } from '../control/index.js';
import type { PendingAction } from '../reconcile/index.js';
import type { MaintenanceStore } from './maintenance-store.js';

/** What the reconciler hands an owner with each action: its term's fence. */
export interface OwnerDispatch {
  readonly term: { readonly fence: readonly ControlCompare[] };
}

export class MaintenanceOwner {
  /** Commits that changed a record, and those that found it in the target's phase already. */
  committed = 0;
  unchanged = 0;

  constructor(private readonly store: MaintenanceStore) {}

  async handle(pending: PendingAction, dispatch?: OwnerDispatch): Promise<void> {
    const { action } = pending;
    if (action.kind !== 'CommitMaintenanceTransition')
      throw new Error(`the maintenance owner does not carry out ${action.kind}`);
    const answer = await this.store.commit(action.node, action.target, dispatch?.term.fence ?? []);
    if (answer.changed) this.committed += 1;
    else this.unchanged += 1;
  }
}
