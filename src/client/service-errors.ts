/**
 * A failed call of one of MeshOS's own services (Chains, Daemons) as a typed client error. The
 * server sends the `MeshError` code and its details in the trailers (src/protocol/error-trailers.ts);
 * the service's table says whether a call that failed with it may be sent again. A failure
 * without those trailers came from the transport: a call that never left (no connection to the
 * endpoint) was not sent; a call cut off after it left may have been applied.
 */
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_TRAILER, ERROR_DETAILS_TRAILER } from '../protocol/index.js';
import { errorFromGrpc, MeshClientError, UnavailableError } from './errors.js';

/** grpc-js's words for a call that failed because no connection could be made: it never left. */
const NOT_SENT_TEXT = 'No connection established';

export interface ServiceCallPolicy {
  /** Whether a call that failed with the server's `code` may be sent again (to any endpoint). */
  retryable(code: string): boolean;
  /**
   * The code of a call cut off after it was sent, which may have been applied; undefined for a
   * call that only reads (then any transport failure is retried).
   */
  readonly cutOffCode: string | undefined;
  /** Whether a call cut off after it was sent is sent again (it is safe to repeat). */
  readonly retryCutOff?: boolean;
}

interface GrpcFailureLike {
  readonly code?: number;
  readonly details?: string;
  readonly metadata?: grpc.Metadata;
}

/** Whether a gRPC failure says the call never left the client (no connection was made for it). */
export function callNeverLeft(error: unknown): boolean {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as GrpcFailureLike;
  return failure.code === grpc.status.UNAVAILABLE && (failure.details ?? '').includes(NOT_SENT_TEXT);
}

/** An error's details as the server sent them (JSON text); empty when absent or not an object. */
export function detailsOf(text: unknown): Record<string, unknown> {
  if (typeof text !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A `MeshError` the server raised, as the client's typed error: `retryable` from the policy. */
export function typedServiceError(
  failure: {
    readonly code: string;
    readonly message: string;
    readonly details: Record<string, unknown>;
    readonly grpcCode: number;
  },
  endpoint: string,
  policy: Pick<ServiceCallPolicy, 'retryable'>,
): MeshClientError {
  return new MeshClientError(failure.code, `${endpoint}: ${failure.message}`, {
    grpcCode: failure.grpcCode,
    retryable: policy.retryable(failure.code),
    details: failure.details,
  });
}

/** The typed error for a call's failure; `retryable` says whether the call is sent again. */
export function serviceErrorFromGrpc(
  error: unknown,
  endpoint: string,
  policy: ServiceCallPolicy,
): MeshClientError {
  if (error instanceof MeshClientError) return error;
  const failure = (typeof error === 'object' && error !== null ? error : {}) as GrpcFailureLike;
  const grpcCode = typeof failure.code === 'number' ? failure.code : grpc.status.UNKNOWN;
  const text = failure.details ?? String(error);
  const meshCode = failure.metadata?.get(ERROR_CODE_TRAILER)[0];
  if (typeof meshCode === 'string' && failure.metadata !== undefined) {
    const detailsText = failure.metadata.get(ERROR_DETAILS_TRAILER)[0];
    return typedServiceError(
      { code: meshCode, message: text, details: detailsOf(detailsText), grpcCode },
      endpoint,
      policy,
    );
  }
  if (callNeverLeft(error)) {
    return new UnavailableError(`${endpoint}: ${text}`, { grpcCode, cause: error });
  }
  if (policy.cutOffCode === undefined) return errorFromGrpc(error, endpoint);
  if (
    grpcCode === grpc.status.UNAVAILABLE ||
    grpcCode === grpc.status.DEADLINE_EXCEEDED ||
    grpcCode === grpc.status.CANCELLED ||
    grpcCode === grpc.status.INTERNAL
  ) {
    return new MeshClientError(
      policy.cutOffCode,
      `${endpoint}: the call was cut off after it was sent, so it may have been applied: ${text}`,
      { grpcCode, cause: error, retryable: policy.retryCutOff ?? false },
    );
  }
  // Refused before any handler ran (too large, unimplemented, ...): typed as for any call, but a
  // write is not sent again on a guess.
  const typed = errorFromGrpc(error, endpoint);
  return typed.retryable ? new MeshClientError(typed.code, typed.message, { grpcCode, cause: error }) : typed;
}
