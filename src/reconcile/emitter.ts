/**
 * Collects one reconcile pass's output: each action gets the next id and the pass's monotonic
 * time, is applied to the view at once (later steps of the pass plan on it), and is dropped when
 * the same change is pending or was already emitted in this pass.
 */
import type { ActionIds, PendingAction, ReconcileAction } from './actions.js';
import type { MeshView } from './view.js';

/** Something reconcile cannot make equal to the desired state now, and why. */
export interface Blocked {
  /** `daemon/<name>`, `chain/<name>`, `blob/<id>` or `node/<id>`. */
  readonly subject: string;
  readonly reason: string;
}

export interface ReconcileResult {
  readonly actions: readonly PendingAction[];
  readonly blocked: readonly Blocked[];
}

export class Emitter {
  readonly actions: PendingAction[] = [];
  readonly blocked: Blocked[] = [];

  constructor(
    readonly view: MeshView,
    private readonly ids: ActionIds,
  ) {}

  emit(action: ReconcileAction): void {
    if (this.view.isAsked(action)) return;
    this.view.apply(action);
    this.actions.push({ id: this.ids.next(), emittedAtMonotonicMs: this.view.time.monotonicMs, action });
  }

  block(subject: string, reason: string): void {
    this.blocked.push({ subject, reason });
  }

  result(): ReconcileResult {
    return { actions: this.actions, blocked: this.blocked };
  }
}
