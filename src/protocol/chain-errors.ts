/**
 * The chains API's error table, shared by the server (which answers a `MeshError` with its gRPC
 * status and puts the code in the trailers) and the client (which rebuilds the typed error from
 * the trailers, or from the status alone when they are missing). One row per code:
 *
 * - `status`: the gRPC status the code is sent with;
 * - `notWritten`: an append that failed with it was certainly not written, so the client may
 *   send it again (to any endpoint). Every other failure of an append is never retried.
 */
import { status } from '@grpc/grpc-js';
import type { ServiceErrorRow } from './error-trailers.js';

export interface ChainErrorRow extends ServiceErrorRow {
  readonly notWritten: boolean;
}

export const CHAIN_ERRORS: Readonly<Record<string, ChainErrorRow>> = {
  CHAIN_NOT_FOUND: { status: status.NOT_FOUND, notWritten: false },
  CHAIN_EXISTS: { status: status.ALREADY_EXISTS, notWritten: false },
  CHAIN_NOT_LEADER: { status: status.UNAVAILABLE, notWritten: true },
  CHAIN_UNAVAILABLE: { status: status.UNAVAILABLE, notWritten: true },
  CHAIN_OVERLOADED: { status: status.RESOURCE_EXHAUSTED, notWritten: true },
  // gRPC's own meaning of DEADLINE_EXCEEDED: the change may have happened anyway.
  CHAIN_APPEND_OUTCOME_UNKNOWN: { status: status.DEADLINE_EXCEEDED, notWritten: false },
  CHAIN_RECORD_TOO_LARGE: { status: status.INVALID_ARGUMENT, notWritten: false },
  CHAIN_OFFSET_TRUNCATED: { status: status.OUT_OF_RANGE, notWritten: false },
  CHAIN_SUBSCRIBER_TOO_SLOW: { status: status.RESOURCE_EXHAUSTED, notWritten: false },
  CHAIN_LIMIT_REACHED: { status: status.RESOURCE_EXHAUSTED, notWritten: false },
  VALIDATION_FAILED: { status: status.INVALID_ARGUMENT, notWritten: false },
  NODE_STOPPED: { status: status.UNAVAILABLE, notWritten: false },
  TIMEOUT: { status: status.DEADLINE_EXCEEDED, notWritten: false },
};
