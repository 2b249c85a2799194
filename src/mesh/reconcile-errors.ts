/** Why a reconcile owner could not carry an action out (the reason the executor records). */
import { MeshError } from '../lib/index.js';

/** Another node holds the reconciler lease: this term's writes are refused. */
export class ReconcileTermFencedError extends MeshError {
  constructor(epoch: number) {
    super('RECONCILE_TERM_FENCED', `the reconciler term ${epoch} was fenced: another node holds the lease`, {
      details: { epoch },
    });
  }
}

/** The owner cannot make this change now (reconcile asks again while it is still needed). */
export class ReconcileActionRefusedError extends MeshError {
  constructor(kind: string, reason: string) {
    super('RECONCILE_ACTION_REFUSED', `${kind}: ${reason}`, { details: { kind } });
  }
}
