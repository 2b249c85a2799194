/** A reconciler term for audit tests: the seat taken in a control plane, and owners for an executor. */
import { absent, type ControlPlane, encodeRecord } from '../../src/control/index.js';
import type { AuditTerm } from '../../src/mesh/index.js';
import type { ActionHandler, ActionOwners } from '../../src/reconcile/index.js';

/** The seat key audit tests fence their writes with. */
export const TEST_SEAT_KEY = 'audit-test-seat';

/** Takes the seat for `node` under a new lease (the previous holder must have released it). */
export async function takeSeat(
  plane: ControlPlane,
  node: number,
  leaseTtlSeconds = 60,
): Promise<AuditTerm & { readonly leaseId: number }> {
  const lease = await plane.grantLease(leaseTtlSeconds);
  const answer = await plane.txn({
    compare: [absent(TEST_SEAT_KEY)],
    success: [
      { type: 'put', key: TEST_SEAT_KEY, value: encodeRecord(TEST_SEAT_KEY, { node }), lease: lease.id },
    ],
  });
  if (!answer.succeeded) throw new Error(`the seat ${TEST_SEAT_KEY} is held already`);
  return {
    node,
    leaseId: lease.id,
    epoch: answer.revision,
    fence: [{ key: TEST_SEAT_KEY, target: 'createRevision', operator: '=', operand: answer.revision }],
  };
}

/** Every owner of an executor handled by `handler`. */
export function everyOwner(handler: ActionHandler): ActionOwners {
  return {
    daemons: handler,
    replicas: handler,
    placement: handler,
    blobs: handler,
    'avoid-list': handler,
    maintenance: handler,
  };
}
