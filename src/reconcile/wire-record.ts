/**
 * The form of an action that leaves the process (the audit chain, a remote owner): every
 * in-process monotonic time becomes wall-clock milliseconds, so another node (or a restarted
 * one) reads it correctly. An in-process action is never sent as it is.
 */
import type { NodeId } from '../lib/index.js';
import type { ActionId, PendingAction, ReconcileAction } from './actions.js';
import { type ReconcileTime, wallFromMonotonic } from './time.js';

type WithoutMonotonic<A> = A extends { readonly kind: 'StopDaemon' }
  ? Omit<A, 'deadlineMonotonicMs'> & { readonly deadlineWallMs: number }
  : A extends { readonly kind: 'ApplyBackoff' }
    ? Omit<A, 'untilMonotonicMs'> & { readonly untilWallMs: number }
    : A;

export type WireAction = WithoutMonotonic<ReconcileAction>;

export interface WireActionRecord {
  readonly id: ActionId;
  /** The node whose reconcile emitted it (ids are unique per emitting process). */
  readonly emittedBy: NodeId;
  readonly emittedAtWallMs: number;
  readonly action: WireAction;
}

/** `pending` as it crosses the wire, its times read against `time` (the emitting process's clocks). */
export function toWireRecord(
  pending: PendingAction,
  emittedBy: NodeId,
  time: ReconcileTime,
): WireActionRecord {
  return {
    id: pending.id,
    emittedBy,
    emittedAtWallMs: wallFromMonotonic(time, pending.emittedAtMonotonicMs),
    action: toWireAction(pending.action, time),
  };
}

function toWireAction(action: ReconcileAction, time: ReconcileTime): WireAction {
  switch (action.kind) {
    case 'StopDaemon': {
      const { deadlineMonotonicMs, ...rest } = action;
      return { ...rest, deadlineWallMs: wallFromMonotonic(time, deadlineMonotonicMs) };
    }
    case 'ApplyBackoff': {
      const { untilMonotonicMs, ...rest } = action;
      return { ...rest, untilWallMs: wallFromMonotonic(time, untilMonotonicMs) };
    }
    default:
      return action;
  }
}
