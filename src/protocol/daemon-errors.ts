/**
 * The daemons API's error table, shared by the server (which answers a `MeshError` with its gRPC
 * status and puts the code in the trailers, see error-trailers.ts) and the client (which rebuilds
 * the typed error). One row per code of the `DaemonsBackend` contract:
 *
 * - `status`: the gRPC status the code is sent with;
 * - `notApplied`: a call that failed with it certainly changed nothing (an event was never
 *   appended), so the client may send it again, to any endpoint. Every other failure of a call
 *   that changes something is not retried, except a send whose event carries a client id and
 *   sequence: the daemon recognises a repeat of those and answers it without applying it again.
 */
import { status } from '@grpc/grpc-js';
import type { ServiceErrorRow } from './error-trailers.js';

export interface DaemonErrorRow extends ServiceErrorRow {
  readonly notApplied: boolean;
}

export const DAEMON_ERRORS: Readonly<Record<string, DaemonErrorRow>> = {
  DAEMON_NOT_FOUND: { status: status.NOT_FOUND, notApplied: false },
  DAEMON_EXISTS: { status: status.ALREADY_EXISTS, notApplied: false },
  DAEMON_KIND_UNKNOWN: { status: status.FAILED_PRECONDITION, notApplied: false },
  // Waiting does not mend it on its own (nodes must join), so it is not retried.
  DAEMON_PLACEMENT_FAILED: { status: status.FAILED_PRECONDITION, notApplied: false },
  DAEMON_UNAVAILABLE: { status: status.UNAVAILABLE, notApplied: true },
  // gRPC's own meaning of DEADLINE_EXCEEDED: the change may have happened anyway.
  DAEMON_EVENT_OUTCOME_UNKNOWN: { status: status.DEADLINE_EXCEEDED, notApplied: false },
  DAEMON_EVENT_TOO_LARGE: { status: status.INVALID_ARGUMENT, notApplied: false },
  // The daemon's own code failed on the event; sending it again would fail the same way.
  DAEMON_PROCESS_FAILED: { status: status.ABORTED, notApplied: false },
  VALIDATION_FAILED: { status: status.INVALID_ARGUMENT, notApplied: false },
  NODE_STOPPED: { status: status.UNAVAILABLE, notApplied: false },
  TIMEOUT: { status: status.DEADLINE_EXCEEDED, notApplied: false },
};
