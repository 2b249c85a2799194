/**
 * `reconcile(observed, desired, time, ids)`: the actions that make the observed mesh equal to
 * the desired one, pure and deterministic (the same input and the same next id give the same
 * output; no clock, randomness or IO but what comes in). One pass runs five steps in an order
 * that lets later ones see earlier decisions: maintenance transitions (a node entering
 * maintenance stops taking placements in this very pass), the avoid list, daemons, chains, blobs.
 * Pending actions count as done, so a pass repeated before they finish emits nothing new.
 */
import type { ActionIds } from './actions.js';
import { Emitter, type ReconcileResult } from './emitter.js';
import { planAvoid } from './plan-avoid.js';
import { planBlobs } from './plan-blobs.js';
import { planChains } from './plan-chains.js';
import { planDaemons } from './plan-daemons.js';
import { planMaintenance } from './plan-maintenance.js';
import type { DesiredState, ObservedState } from './state.js';
import type { ReconcileTime } from './time.js';
import { validateReconcileInput } from './validate.js';
import { MeshView, type ReconcileOptions } from './view.js';

export function reconcile(
  observed: ObservedState,
  desired: DesiredState,
  time: ReconcileTime,
  ids: ActionIds,
  options: ReconcileOptions = {},
): ReconcileResult {
  validateReconcileInput(observed, desired, time);
  const out = new Emitter(new MeshView(observed, time, options), ids);
  planMaintenance(out, desired);
  planAvoid(out, desired);
  planDaemons(out, desired);
  planChains(out, desired);
  planBlobs(out, desired);
  return out.result();
}
