/**
 * The space quota, with etcd's semantics: a write that would take the stored bytes past the quota
 * is refused with NOSPACE and raises a NOSPACE alarm; while any NOSPACE alarm is raised the state
 * machine refuses every write that adds data (puts, txns with puts, lease grants), and deletes and
 * compactions still run, until the alarm is disarmed. Sizes come from the applied state (see
 * `storedRecordBytes`), so every replica measures the same.
 */
import { RECORD_OVERHEAD_BYTES } from './mvcc.js';
import type { KvCommand, RequestOp } from './types.js';

/** etcd's default `--quota-backend-bytes`. */
export const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024;
/** etcd's suggested maximum quota. */
export const MAX_QUOTA_BACKEND_BYTES = 8 * 1024 * 1024 * 1024;
/** What one lease counts for the space quota (its id, TTL and key set). */
export const LEASE_STORED_BYTES = 64;

function opCostBytes(op: RequestOp): number {
  switch (op.type) {
    case 'put':
      return op.key.length + op.value.length + RECORD_OVERHEAD_BYTES;
    case 'txn':
      // Only one branch runs; charge the larger, as etcd does.
      return Math.max(branchCostBytes(op.success), branchCostBytes(op.failure));
    default:
      return 0;
  }
}

function branchCostBytes(ops: readonly RequestOp[]): number {
  let total = 0;
  for (const op of ops) total += opCostBytes(op);
  return total;
}

/** Bytes a command may add to the store; 0 for commands that only read or remove data. */
export function commandCostBytes(command: KvCommand): number {
  switch (command.type) {
    case 'leaseGrant':
      return LEASE_STORED_BYTES;
    case 'compact':
    case 'leaseRevoke':
    case 'alarm':
      return 0;
    default:
      return opCostBytes(command);
  }
}

/** A put anywhere in the request, in either branch of any txn. */
export function writesData(command: KvCommand): boolean {
  return commandCostBytes(command) > 0;
}

/** True when applying `command` would take `storedBytes` past `quotaBytes`. */
export function exceedsQuota(storedBytes: number, command: KvCommand, quotaBytes: number): boolean {
  const cost = commandCostBytes(command);
  return cost > 0 && storedBytes + cost > quotaBytes;
}
