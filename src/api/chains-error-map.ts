/**
 * A chains call's failure as a gRPC status: the status from the shared table
 * (`CHAIN_ERRORS` in src/protocol), the error's own message, and its code and details in the
 * trailers so the client rebuilds the same typed error. Unlike etcd's services, no message
 * text is part of the contract.
 */
import * as grpc from '@grpc/grpc-js';
import { isMeshError, type Logger } from '../lib/index.js';
import { CHAIN_ERROR_CODE_TRAILER, CHAIN_ERROR_DETAILS_TRAILER, CHAIN_ERRORS } from '../protocol/index.js';

/** The status a chains call fails with for `error`: UNKNOWN for an unlisted code, INTERNAL for a bug. */
export function chainFailureOf(error: unknown): { code: grpc.status; message: string; meshCode?: string } {
  if (!isMeshError(error)) return { code: grpc.status.INTERNAL, message: `internal error: ${String(error)}` };
  return {
    code: CHAIN_ERRORS[error.code]?.status ?? grpc.status.UNKNOWN,
    message: error.message,
    meshCode: error.code,
  };
}

/** The error object grpc-js sends as the status of a failed chains call. */
export function toChainServiceError(error: unknown, logger: Logger, method: string): grpc.ServiceError {
  const failure = chainFailureOf(error);
  const metadata = new grpc.Metadata();
  if (failure.code === grpc.status.INTERNAL) {
    logger.error({ err: error, method }, 'chains api: unexpected error');
  } else {
    logger.debug({ err: error, method, code: failure.code }, 'chains api: request failed');
  }
  if (failure.meshCode !== undefined && isMeshError(error)) {
    metadata.set(CHAIN_ERROR_CODE_TRAILER, failure.meshCode);
    metadata.set(CHAIN_ERROR_DETAILS_TRAILER, JSON.stringify(error.details));
  }
  return Object.assign(new Error(failure.message), {
    code: failure.code,
    details: failure.message,
    metadata,
  });
}
