/**
 * The `avoid-list` owner of the reconcile service: `MarkAvoid {peer, reason, ttl}` is stored as
 * `reconcile/avoid/<peer>` under a lease of the TTL, so the entry expires by itself; reconcile
 * reads the list back (placement skips avoided nodes). Marking an entry that lasts longer already
 * changes nothing (idempotent, as the pure `AvoidList` keeps the later expiry).
 */
import { type ControlPlane, reconcileAvoidKey } from '../control/index.js';
import type { Clock } from '../lib/index.js';
import { avoidTtlProblem, type PendingAction } from '../reconcile/index.js';
import { ReconcileActionRefusedError } from './reconcile-errors.js';
import type { ReconcileDispatch, ReconcileOwner } from './reconcile-hub.js';
import { type AvoidRecord, readAvoidRecord } from './reconcile-records.js';
import { fencedPut } from './reconcile-writes.js';

export function avoidListOwner(plane: ControlPlane, clock: Clock): ReconcileOwner {
  return {
    async handle(pending: PendingAction, { term }: ReconcileDispatch): Promise<void> {
      const { action } = pending;
      if (action.kind !== 'MarkAvoid')
        throw new ReconcileActionRefusedError(action.kind, 'the avoid-list owner does not carry it out');
      const problem = avoidTtlProblem(action.ttlMs);
      if (problem !== undefined) throw new ReconcileActionRefusedError(action.kind, problem);
      const key = reconcileAvoidKey(action.peer);
      const untilWallMs = clock.wallMs() + action.ttlMs;
      const current = await plane.get(key);
      if (current !== undefined && readAvoidRecord(key, current.value).untilWallMs >= untilWallMs) return;
      const record: AvoidRecord = { reason: action.reason, untilWallMs };
      await fencedPut(plane, term, key, record, action.ttlMs / 1_000);
    },
  };
}
