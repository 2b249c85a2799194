/**
 * A failure of one of MeshOS's own services (Chains, Daemons) as a gRPC status: the status from
 * the service's error table, the error's own message, and its code and details in the trailers
 * so the client rebuilds the same typed error (src/protocol/error-trailers.ts). Unlike etcd's
 * services, no message text is part of the contract.
 */
import * as grpc from '@grpc/grpc-js';
import { isMeshError, type Logger } from '../lib/index.js';
import {
  detailsTrailerText,
  ERROR_CODE_TRAILER,
  ERROR_DETAILS_TRAILER,
  type ServiceErrorRow,
} from '../protocol/index.js';
import { grpcFailureOf } from './error-map.js';
import type { ServiceErrorOf } from './grpc-call.js';

export type ServiceErrorTable = Readonly<Record<string, ServiceErrorRow>>;

/** The status a call fails with for `error`: UNKNOWN for an unlisted code, INTERNAL for a bug. */
export function serviceFailureOf(
  table: ServiceErrorTable,
  error: unknown,
): { code: grpc.status; message: string; meshCode?: string } {
  if (!isMeshError(error)) return { code: grpc.status.INTERNAL, message: `internal error: ${String(error)}` };
  // Auth refusals keep etcd's statuses (PERMISSION_DENIED, UNAUTHENTICATED, ...) on every service.
  const authStatus = error.code.startsWith('AUTH_') ? grpcFailureOf(error).code : undefined;
  return {
    code: table[error.code]?.status ?? authStatus ?? grpc.status.UNKNOWN,
    message: error.message,
    meshCode: error.code,
  };
}

/** `serviceFailureOf`, logged by a service named `label`: a bug as an error, a refusal at debug. */
export function loggedServiceFailure(
  table: ServiceErrorTable,
  label: string,
  error: unknown,
  logger: Logger,
  method: string,
): ReturnType<typeof serviceFailureOf> {
  const failure = serviceFailureOf(table, error);
  if (failure.code === grpc.status.INTERNAL) {
    logger.error({ err: error, method }, `${label}: unexpected error`);
  } else {
    logger.debug({ err: error, method, code: failure.code }, `${label}: request failed`);
  }
  return failure;
}

/** How a service named `label` (in its log lines) turns a failure into the status grpc-js sends. */
export function serviceErrorOf(table: ServiceErrorTable, label: string): ServiceErrorOf {
  return (error, logger, method) => {
    const failure = loggedServiceFailure(table, label, error, logger, method);
    const metadata = new grpc.Metadata();
    if (failure.meshCode !== undefined && isMeshError(error)) {
      metadata.set(ERROR_CODE_TRAILER, failure.meshCode);
      metadata.set(ERROR_DETAILS_TRAILER, detailsTrailerText(error.details));
    }
    return Object.assign(new Error(failure.message), {
      code: failure.code,
      details: failure.message,
      metadata,
    });
  };
}
