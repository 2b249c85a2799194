/**
 * The reconcile owners' control-plane writes: one transaction that holds only while the term's
 * fence does (the reconciler lease key as this term created it), so a holder that lost the lease
 * writes nothing. A write with a TTL goes under a lease of its own, granted for it: the record
 * disappears by itself when its time is up.
 */
import { type ControlPlane, encodeRecord, MIN_CONTROL_LEASE_TTL_SECONDS } from '../control/index.js';
import { ReconcileTermFencedError } from './reconcile-errors.js';
import type { ReconcileTerm } from './reconcile-hub.js';

/** Puts `record` at `key` while the term holds; under a fresh lease of `ttlSeconds` when given. */
export async function fencedPut(
  plane: ControlPlane,
  term: ReconcileTerm,
  key: string,
  record: unknown,
  ttlSeconds?: number,
): Promise<void> {
  const value = encodeRecord(key, record);
  const lease =
    ttlSeconds === undefined
      ? undefined
      : await plane.grantLease(Math.max(MIN_CONTROL_LEASE_TTL_SECONDS, Math.ceil(ttlSeconds)));
  const answer = await plane.txn({
    compare: term.fence,
    success: [{ type: 'put', key, value, ...(lease === undefined ? {} : { lease: lease.id }) }],
    failure: [],
  });
  if (answer.succeeded) return;
  if (lease !== undefined) await plane.revokeLease(lease.id).catch(() => undefined);
  throw new ReconcileTermFencedError(term.epoch);
}
