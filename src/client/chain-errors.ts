/**
 * A failed chains call as a typed client error (service-errors.ts). The shared table
 * (`CHAIN_ERRORS`) says whether an append that failed with a code was certainly not written,
 * which is the only case a write is retried; reads are also retried after any transport failure.
 */
import { CHAIN_ERRORS, type PbAppendFailure } from '../protocol/index.js';
import { MeshClientError } from './errors.js';
import { detailsOf, serviceErrorFromGrpc, typedServiceError } from './service-errors.js';

/** An append, another change (create, delete), or a call that only reads. */
export type ChainCallKind = 'append' | 'change' | 'read';

const CUT_OFF_CODES: Readonly<Record<ChainCallKind, string | undefined>> = {
  append: 'CHAIN_APPEND_OUTCOME_UNKNOWN',
  change: 'CHAIN_OUTCOME_UNKNOWN',
  read: undefined,
};

/** A chains failure with `code` may be sent again only when the table says it was not written. */
const notWritten = (code: string): boolean => CHAIN_ERRORS[code]?.notWritten ?? false;

/**
 * The typed error for a chains call's failure. `retryable` says whether sending the same call
 * again (to any endpoint) is safe and may succeed: for writes only when the chain was not
 * changed; for reads also after any transport failure.
 */
export function chainErrorFromGrpc(error: unknown, endpoint: string, kind: ChainCallKind): MeshClientError {
  return serviceErrorFromGrpc(error, endpoint, { retryable: notWritten, cutOffCode: CUT_OFF_CODES[kind] });
}

/**
 * The typed error for one append of an AppendStream the node answered with a failure: the same
 * error a unary Append failing that way gives. Without a code (the node hit a bug) it may have
 * been written.
 */
export function chainAppendFailureError(failure: PbAppendFailure, endpoint: string): MeshClientError {
  if (failure.code === '') {
    return new MeshClientError(
      'CHAIN_APPEND_OUTCOME_UNKNOWN',
      `${endpoint}: the node failed the append unexpectedly, so it may have been written: ${failure.message}`,
      { grpcCode: failure.status },
    );
  }
  return typedServiceError(
    {
      code: failure.code,
      message: failure.message,
      details: detailsOf(failure.details_json),
      grpcCode: failure.status,
    },
    endpoint,
    { retryable: notWritten },
  );
}
