/**
 * A failed chains call as a typed client error. The server sends the `MeshError` code and its
 * details in the trailers; the shared table (`CHAIN_ERRORS`) says whether an append that failed
 * with it was certainly not written, which is the only case a write is retried. A failure
 * without those trailers came from the transport: a call that never left (no connection to the
 * endpoint) was not sent; a call cut off after it left may have been applied.
 */
import * as grpc from '@grpc/grpc-js';
import { CHAIN_ERROR_CODE_TRAILER, CHAIN_ERROR_DETAILS_TRAILER, CHAIN_ERRORS } from '../protocol/index.js';
import { errorFromGrpc, MeshClientError, UnavailableError } from './errors.js';

/** grpc-js's words for a call that failed because no connection could be made: it never left. */
const NOT_SENT_TEXT = 'No connection established';

/** An append, another change (create, delete), or a call that only reads. */
export type ChainCallKind = 'append' | 'change' | 'read';

interface GrpcFailureLike {
  readonly code?: number;
  readonly details?: string;
  readonly metadata?: grpc.Metadata;
}

function detailsOf(metadata: grpc.Metadata): Record<string, unknown> {
  const text = metadata.get(CHAIN_ERROR_DETAILS_TRAILER)[0];
  if (typeof text !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The typed error for a chains call's failure. `retryable` says whether sending the same call
 * again (to any endpoint) is safe and may succeed: for writes only when the chain was not
 * changed; for reads also after any transport failure.
 */
export function chainErrorFromGrpc(error: unknown, endpoint: string, kind: ChainCallKind): MeshClientError {
  if (error instanceof MeshClientError) return error;
  const failure = (typeof error === 'object' && error !== null ? error : {}) as GrpcFailureLike;
  const grpcCode = typeof failure.code === 'number' ? failure.code : grpc.status.UNKNOWN;
  const text = failure.details ?? String(error);
  const meshCode = failure.metadata?.get(CHAIN_ERROR_CODE_TRAILER)[0];
  if (typeof meshCode === 'string' && failure.metadata !== undefined) {
    const row = CHAIN_ERRORS[meshCode];
    return new MeshClientError(meshCode, `${endpoint}: ${text}`, {
      grpcCode,
      retryable: row?.notWritten ?? false,
      details: detailsOf(failure.metadata),
    });
  }
  if (grpcCode === grpc.status.UNAVAILABLE && text.includes(NOT_SENT_TEXT)) {
    return new UnavailableError(`${endpoint}: ${text}`, { grpcCode, cause: error });
  }
  if (kind === 'read') return errorFromGrpc(error, endpoint);
  if (
    grpcCode === grpc.status.UNAVAILABLE ||
    grpcCode === grpc.status.DEADLINE_EXCEEDED ||
    grpcCode === grpc.status.CANCELLED ||
    grpcCode === grpc.status.INTERNAL
  ) {
    return new MeshClientError(
      kind === 'append' ? 'CHAIN_APPEND_OUTCOME_UNKNOWN' : 'CHAIN_OUTCOME_UNKNOWN',
      `${endpoint}: the call was cut off after it was sent, so it may have been applied: ${text}`,
      { grpcCode, cause: error },
    );
  }
  // Refused before any handler ran (too large, unimplemented, ...): typed as for any call, but a
  // write is not sent again on a guess.
  const typed = errorFromGrpc(error, endpoint);
  return typed.retryable ? new MeshClientError(typed.code, typed.message, { grpcCode, cause: error }) : typed;
}
