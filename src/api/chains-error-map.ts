/** A chains call's failure as a gRPC status, from the shared table (`CHAIN_ERRORS` in src/protocol). */
import type * as grpc from '@grpc/grpc-js';
import { CHAIN_ERRORS } from '../protocol/index.js';
import { serviceErrorOf, serviceFailureOf } from './service-error-map.js';

/** The status a chains call fails with for `error`: UNKNOWN for an unlisted code, INTERNAL for a bug. */
export function chainFailureOf(error: unknown): { code: grpc.status; message: string; meshCode?: string } {
  return serviceFailureOf(CHAIN_ERRORS, error);
}

/** The error object grpc-js sends as the status of a failed chains call. */
export const toChainServiceError = serviceErrorOf(CHAIN_ERRORS, 'chains api');
