/**
 * A failed chains call as a typed client error (service-errors.ts). The shared table
 * (`CHAIN_ERRORS`) says whether an append that failed with a code was certainly not written,
 * which is the only case a write is retried; reads are also retried after any transport failure.
 */
import { CHAIN_ERRORS } from '../protocol/index.js';
import type { MeshClientError } from './errors.js';
import { serviceErrorFromGrpc } from './service-errors.js';

/** An append, another change (create, delete), or a call that only reads. */
export type ChainCallKind = 'append' | 'change' | 'read';

const CUT_OFF_CODES: Readonly<Record<ChainCallKind, string | undefined>> = {
  append: 'CHAIN_APPEND_OUTCOME_UNKNOWN',
  change: 'CHAIN_OUTCOME_UNKNOWN',
  read: undefined,
};

/**
 * The typed error for a chains call's failure. `retryable` says whether sending the same call
 * again (to any endpoint) is safe and may succeed: for writes only when the chain was not
 * changed; for reads also after any transport failure.
 */
export function chainErrorFromGrpc(error: unknown, endpoint: string, kind: ChainCallKind): MeshClientError {
  return serviceErrorFromGrpc(error, endpoint, {
    retryable: (code) => CHAIN_ERRORS[code]?.notWritten ?? false,
    cutOffCode: CUT_OFF_CODES[kind],
  });
}
