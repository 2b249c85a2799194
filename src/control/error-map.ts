/**
 * Turns a store's failure into the control plane's typed error. The node's `KvError`s and the
 * etcd client's errors carry the same stable codes (the client maps etcd's messages back to
 * them), so one table serves both backends.
 */
import { isMeshError } from '../lib/index.js';
import {
  ControlBadRequestError,
  ControlClosedError,
  ControlCompactedError,
  ControlFutureRevisionError,
  ControlLeaseNotFoundError,
  ControlPlaneError,
  ControlRejectedError,
  ControlUnavailableError,
} from './errors.js';

/** Failures that say nothing about the request itself: another try (later, elsewhere) may work. */
const UNAVAILABLE_CODES = new Set([
  'UNAVAILABLE',
  'TIMEOUT',
  'NOT_LEADER',
  'LEADER_CHANGED',
  'LEADER_UNREACHABLE',
  'TRANSFER_IN_PROGRESS',
  'READ_DROPPED',
  'NODE_STOPPED',
  'TOO_MANY_REQUESTS',
  'CONFIG_CHANGE_PENDING',
  'KV_LESSOR_NOT_PRIMARY',
  'WATCH_CANCELED',
  'CANCELLED',
]);

/** Refusals of a request the control plane should have caught itself, or a caller's bad argument. */
const BAD_REQUEST_CODES = new Set([
  'KV_DUPLICATE_KEY',
  'KV_TOO_MANY_OPERATIONS',
  'KV_REQUEST_TOO_LARGE',
  'KV_EMPTY_KEY',
  'KV_INVALID_RANGE',
  'KV_INVALID_REQUEST',
  'KV_LEASE_TTL_TOO_LARGE',
  'INVALID_ARGUMENT',
]);

export interface ErrorContext {
  /** What was being done, for the message. */
  readonly operation: string;
  readonly leaseId?: number;
  readonly revision?: number;
}

export function controlErrorOf(error: unknown, context: ErrorContext): ControlPlaneError {
  if (error instanceof ControlPlaneError) return error;
  if (!isMeshError(error)) {
    return new ControlRejectedError('UNKNOWN', `${context.operation}: ${String(error)}`, error);
  }
  const code = error.code;
  if (code === 'KV_COMPACTED') {
    const compactRevision = error.details.compactRevision;
    return new ControlCompactedError(
      typeof compactRevision === 'number' ? compactRevision : undefined,
      error,
    );
  }
  if (code === 'KV_FUTURE_REVISION') return new ControlFutureRevisionError(context.revision ?? 0, error);
  if (code === 'KV_LEASE_NOT_FOUND') {
    const fromError = error.details.leaseId;
    return new ControlLeaseNotFoundError(
      context.leaseId ?? (typeof fromError === 'number' ? fromError : 0),
      error,
    );
  }
  if (code === 'CLIENT_CLOSED') return new ControlClosedError();
  const retryable = (error as { retryable?: unknown }).retryable === true;
  if (retryable || UNAVAILABLE_CODES.has(code)) {
    return new ControlUnavailableError(`${context.operation}: ${error.message}`, error);
  }
  if (BAD_REQUEST_CODES.has(code))
    return new ControlBadRequestError(`${context.operation}: ${error.message}`);
  return new ControlRejectedError(code, `${context.operation}: ${error.message}`, error);
}

/** Runs a store call, turning any failure into a typed control-plane error. */
export async function mapFailure<T>(context: ErrorContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw controlErrorOf(error, context);
  }
}
