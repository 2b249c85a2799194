/**
 * Where the parts of a node plug into the reconcile service (docs/RECONCILE.md "Plugging in"):
 * an owner per `ActionOwner` (the part that carries out that owner's actions when this node holds
 * the reconciler lease), listeners of every executor event (the audit chain), and sources of
 * observed and desired state the service does not follow itself (maintenance, blobs). One hub
 * per node, made on first use and kept across service restarts, so a service may register before
 * or after the reconcile service starts.
 */
import type { ControlCompare } from '../control/index.js';
import type { NodeId } from '../lib/index.js';
import type {
  ActionOwner,
  BlobSpec,
  ExecutorEvent,
  MaintenanceRequest,
  MaintenanceState,
  ObservedBlob,
  PendingAction,
} from '../reconcile/index.js';

/** One holding of the reconciler lease: its actions carry it, so a stale holder's writes are refused. */
export interface ReconcileTerm {
  readonly holder: NodeId;
  /** Grows with every term in the mesh (the lease key's create revision). */
  readonly epoch: number;
  /** Compares that hold only while this term does: join them to every control-plane write. */
  readonly fence: readonly ControlCompare[];
}

/** What an owner is handed with each action. */
export interface ReconcileDispatch {
  readonly term: ReconcileTerm;
  /** Aborted when the term ends: the owner gives up (its fenced writes would be refused anyway). */
  readonly signal: AbortSignal;
}

/**
 * The part that carries out one owner's actions. Resolving completes the action; rejecting fails
 * it with the error's message (reconcile asks again on a later pass if it is still needed). Every
 * action must be idempotent: a pass after a lost answer may ask for the same change again.
 */
export interface ReconcileOwner {
  handle(pending: PendingAction, dispatch: ReconcileDispatch): Promise<void>;
}

/** One executor event with the action it concerns and the term it happened in. */
export interface ReconcileEventRecord {
  readonly event: ExecutorEvent;
  readonly action: PendingAction;
  readonly term: Omit<ReconcileTerm, 'fence'>;
}

/** Observed and desired state a part keeps itself, read at the start of each pass. */
export interface ReconcileStateSource {
  /** Maintenance states (absent nodes: Active) and the operators' requests. */
  maintenance?(): {
    readonly states: ReadonlyMap<NodeId, MaintenanceState>;
    readonly requests: readonly MaintenanceRequest[];
  };
  /** Blobs as observed and as asked for. */
  blobs?(): { readonly observed: readonly ObservedBlob[]; readonly desired: readonly BlobSpec[] };
  /** Calls `listener` when its state changed (a pass follows soon); returns an unsubscribe. */
  onChange?(listener: () => void): () => void;
}

export class ReconcileHub {
  private readonly owners = new Map<ActionOwner, ReconcileOwner>();
  private readonly eventListeners = new Set<(record: ReconcileEventRecord) => void>();
  private readonly sources = new Map<string, ReconcileStateSource>();
  private readonly sourceListeners = new Set<() => void>();

  /** Carries out `owner`'s actions from now on (replacing the one registered); returns an unregister. */
  registerOwner(owner: ActionOwner, handler: ReconcileOwner): () => void {
    this.owners.set(owner, handler);
    return () => {
      if (this.owners.get(owner) === handler) this.owners.delete(owner);
    };
  }

  owner(owner: ActionOwner): ReconcileOwner | undefined {
    return this.owners.get(owner);
  }

  /** Calls `listener` with every executor event of every term this node holds; returns an unsubscribe. */
  onEvent(listener: (record: ReconcileEventRecord) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  emit(record: ReconcileEventRecord): void {
    for (const listener of this.eventListeners) listener(record);
  }

  /** Adds (or replaces) the state source `name`; returns an unregister. */
  registerStateSource(name: string, source: ReconcileStateSource): () => void {
    this.sources.set(name, source);
    const unsubscribe = source.onChange?.(() => this.sourceChanged());
    this.sourceChanged();
    return () => {
      unsubscribe?.();
      if (this.sources.get(name) === source) this.sources.delete(name);
    };
  }

  stateSources(): ReconcileStateSource[] {
    return [...this.sources.values()];
  }

  /** Calls `listener` when a state source changed or was added; returns an unsubscribe. */
  onSourceChange(listener: () => void): () => void {
    this.sourceListeners.add(listener);
    return () => this.sourceListeners.delete(listener);
  }

  private sourceChanged(): void {
    for (const listener of this.sourceListeners) listener();
  }
}

/** The node's hub (made on first use; never taken out of `parts`). */
export function reconcileHubOf(parts: { reconcileHub?: ReconcileHub }): ReconcileHub {
  parts.reconcileHub ??= new ReconcileHub();
  return parts.reconcileHub;
}
