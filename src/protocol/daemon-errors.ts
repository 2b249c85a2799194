/**
 * The daemons API's error table, shared by the server (which answers a `MeshError` with its gRPC
 * status and puts the code in the trailers, see error-trailers.ts) and the client (which rebuilds
 * the typed error). One row per code of the `DaemonsBackend` contract:
 *
 * - `status`: the gRPC status the code is sent with;
 * - `notApplied`: a call that failed with it certainly changed nothing (an event was never
 *   appended), so the client may send it again, to any endpoint;
 * - `outcomeUnknown`: the call may or may not have taken effect. Such a failure is never retried,
 *   except for a send whose event carries a client id and sequence: the daemon recognises a
 *   repeat of those and answers it without applying it again, so sending it again is safe.
 */
import { status } from '@grpc/grpc-js';
import type { ServiceErrorRow } from './error-trailers.js';

export interface DaemonErrorRow extends ServiceErrorRow {
  readonly notApplied: boolean;
  readonly outcomeUnknown: boolean;
}

export const DAEMON_ERRORS: Readonly<Record<string, DaemonErrorRow>> = {
  DAEMON_NOT_FOUND: { status: status.NOT_FOUND, notApplied: false, outcomeUnknown: false },
  DAEMON_EXISTS: { status: status.ALREADY_EXISTS, notApplied: false, outcomeUnknown: false },
  DAEMON_KIND_UNKNOWN: { status: status.FAILED_PRECONDITION, notApplied: false, outcomeUnknown: false },
  // Waiting does not mend it on its own (nodes must join), so it is not retried.
  DAEMON_PLACEMENT_FAILED: { status: status.FAILED_PRECONDITION, notApplied: false, outcomeUnknown: false },
  DAEMON_UNAVAILABLE: { status: status.UNAVAILABLE, notApplied: true, outcomeUnknown: false },
  // gRPC's own meaning of DEADLINE_EXCEEDED: the change may have happened anyway.
  DAEMON_EVENT_OUTCOME_UNKNOWN: { status: status.DEADLINE_EXCEEDED, notApplied: false, outcomeUnknown: true },
  DAEMON_EVENT_TOO_LARGE: { status: status.INVALID_ARGUMENT, notApplied: false, outcomeUnknown: false },
  // The daemon's own code failed on the event; sending it again would fail the same way.
  DAEMON_PROCESS_FAILED: { status: status.ABORTED, notApplied: false, outcomeUnknown: false },
  // A retry of an event whose timeout elapsed would time out again; the event changed nothing.
  DAEMON_PROCESS_TIMEOUT: { status: status.ABORTED, notApplied: false, outcomeUnknown: false },
  // An event of a client older than its last applied one: refused, its answer no longer kept.
  DAEMON_SEQUENCE_STALE: { status: status.FAILED_PRECONDITION, notApplied: false, outcomeUnknown: false },
  // A fork whose parent's state does not fit the record that starts the fork's chain.
  DAEMON_FORK_STATE_TOO_LARGE: {
    status: status.FAILED_PRECONDITION,
    notApplied: false,
    outcomeUnknown: false,
  },
  VALIDATION_FAILED: { status: status.INVALID_ARGUMENT, notApplied: false, outcomeUnknown: false },
  // A move refused before anything changed, or failed before its cutover: the active stayed.
  DAEMON_MOVE_TARGET_UNKNOWN: { status: status.NOT_FOUND, notApplied: false, outcomeUnknown: false },
  DAEMON_MOVE_TARGET_UNHEALTHY: {
    status: status.FAILED_PRECONDITION,
    notApplied: false,
    outcomeUnknown: false,
  },
  DAEMON_MOVE_ALREADY_THERE: { status: status.ALREADY_EXISTS, notApplied: false, outcomeUnknown: false },
  DAEMON_MOVE_IN_PROGRESS: { status: status.ABORTED, notApplied: false, outcomeUnknown: false },
  DAEMON_MOVE_FAILED: { status: status.ABORTED, notApplied: false, outcomeUnknown: false },
  NODE_STOPPED: { status: status.UNAVAILABLE, notApplied: false, outcomeUnknown: true },
  TIMEOUT: { status: status.DEADLINE_EXCEEDED, notApplied: false, outcomeUnknown: true },
};
