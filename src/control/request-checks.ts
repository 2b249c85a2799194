/** Checks of the arguments that are not keys or values (those are in keys.ts), each with a typed error. */
import { ControlBadRequestError } from './errors.js';
import {
  MAX_CONTROL_LEASE_TTL_SECONDS,
  MAX_CONTROL_RANGE_LIMIT,
  MAX_CONTROL_TXN_BYTES,
  MAX_CONTROL_TXN_OPERATIONS,
  MIN_CONTROL_LEASE_TTL_SECONDS,
} from './limits.js';
import type { StoreOp, StoreTxn } from './store.js';

export function checkRevision(field: string, revision: number | undefined): number {
  if (revision === undefined) return 0;
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new ControlBadRequestError(`${field} must be a non-negative integer, got ${revision}`);
  }
  return revision;
}

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_CONTROL_RANGE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_CONTROL_RANGE_LIMIT) {
    throw new ControlBadRequestError(
      `limit must be an integer from 1 to ${MAX_CONTROL_RANGE_LIMIT}, got ${limit}`,
    );
  }
  return limit;
}

export function checkLeaseId(id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new ControlBadRequestError(`a lease id is a positive integer, got ${id}`);
  }
  return id;
}

/** Lease 0 (or unset) means none. */
export function checkOptionalLeaseId(id: number | undefined): number {
  return id === undefined || id === 0 ? 0 : checkLeaseId(id);
}

export function checkTtl(ttlSeconds: number): number {
  if (
    !Number.isSafeInteger(ttlSeconds) ||
    ttlSeconds < MIN_CONTROL_LEASE_TTL_SECONDS ||
    ttlSeconds > MAX_CONTROL_LEASE_TTL_SECONDS
  ) {
    throw new ControlBadRequestError(
      `a lease TTL is a whole number of seconds from ${MIN_CONTROL_LEASE_TTL_SECONDS} to ${MAX_CONTROL_LEASE_TTL_SECONDS}, got ${ttlSeconds}`,
    );
  }
  return ttlSeconds;
}

export function checkCompareOperand(operand: number): number {
  if (!Number.isSafeInteger(operand) || operand < 0) {
    throw new ControlBadRequestError(
      `a counter compare needs a non-negative integer operand, got ${operand}`,
    );
  }
  return operand;
}

const opBytes = (op: StoreOp): number =>
  op.type === 'put'
    ? op.key.length + op.value.length
    : op.type === 'get'
      ? op.key.length
      : op.range.start.length;

/** Counts and sizes of a whole txn against the limits every store accepts. */
export function checkTxnSize(txn: StoreTxn): void {
  for (const [name, list] of [
    ['compares', txn.compare],
    ['success operations', txn.success],
    ['failure operations', txn.failure],
  ] as const) {
    if (list.length > MAX_CONTROL_TXN_OPERATIONS) {
      throw new ControlBadRequestError(`${list.length} ${name}, more than ${MAX_CONTROL_TXN_OPERATIONS}`);
    }
  }
  let bytes = 0;
  for (const compare of txn.compare)
    bytes += compare.key.length + (typeof compare.operand === 'number' ? 0 : compare.operand.length);
  for (const op of [...txn.success, ...txn.failure]) bytes += opBytes(op);
  if (bytes > MAX_CONTROL_TXN_BYTES) {
    throw new ControlBadRequestError(
      `txn holds ${bytes} bytes of keys and values, more than ${MAX_CONTROL_TXN_BYTES}`,
    );
  }
}
