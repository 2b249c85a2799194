/**
 * The typed errors of deployed daemons on the cluster (the codes of the `DaemonsBackend`
 * contract, src/api/daemons-backend.ts). Whether an event failing with one was applied is part
 * of each code's meaning: `DAEMON_UNAVAILABLE` never, `DAEMON_EVENT_OUTCOME_UNKNOWN` maybe.
 */
import { MeshError, type NodeId } from '../lib/index.js';

/** No daemon of that name is deployed. */
export class DeployedDaemonNotFoundError extends MeshError {
  constructor(name: string) {
    super('DAEMON_NOT_FOUND', `daemon ${name} is not deployed`, { details: { name } });
  }
}

/** Deploy of a name that is taken (or whose chains are still there from an unfinished remove). */
export class DaemonExistsError extends MeshError {
  constructor(name: string, reason = 'a daemon of that name is deployed') {
    super('DAEMON_EXISTS', `daemon ${name} exists: ${reason}`, { details: { name, reason } });
  }
}

/** Fewer healthy nodes than the daemon has members. */
export class DaemonPlacementError extends MeshError {
  constructor(name: string, wanted: number, healthy: number) {
    super(
      'DAEMON_PLACEMENT_FAILED',
      `daemon ${name} needs ${wanted} distinct healthy nodes, ${healthy} are available`,
      { details: { name, wanted, healthy } },
    );
  }
}

/** No active could take the event; it was never appended, so it was applied nowhere. */
export class DaemonUnavailableError extends MeshError {
  constructor(name: string, reason: string, cause?: unknown) {
    super('DAEMON_UNAVAILABLE', `daemon ${name} is unavailable: ${reason}`, {
      details: { name, reason },
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/** The event may be on the inbound chain (and so applied) but no answer says so. */
export class DaemonEventOutcomeUnknownError extends MeshError {
  constructor(name: string, reason: string, cause?: unknown) {
    super('DAEMON_EVENT_OUTCOME_UNKNOWN', `an event for daemon ${name} has an unknown outcome: ${reason}`, {
      details: { name, reason },
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/** An event above the daemon's size limit; not appended. */
export class DaemonEventTooLargeError extends MeshError {
  constructor(name: string, eventBytes: number, maxEventBytes: number) {
    super(
      'DAEMON_EVENT_TOO_LARGE',
      `an event of ${eventBytes} bytes is larger than daemon ${name}'s limit of ${maxEventBytes} bytes`,
      { details: { name, eventBytes, maxEventBytes } },
    );
  }
}

/** The kind threw (or missed its deadline) applying the event: applied nowhere, state unchanged. */
export class DaemonProcessFailedError extends MeshError {
  constructor(name: string, inboundOffset: number, reason: string, crashed = false) {
    super(
      'DAEMON_PROCESS_FAILED',
      `daemon ${name} failed applying the event at ${inboundOffset}: ${reason}`,
      {
        details: { name, inboundOffset, reason, crashed },
      },
    );
  }
}

/** A request reached a node that is not (or no longer) the daemon's active. */
export class DaemonNotActiveHereError extends MeshError {
  constructor(name: string, node: NodeId, epoch: number) {
    super('DAEMON_NOT_ACTIVE_HERE', `node ${node} does not run daemon ${name}'s active at epoch ${epoch}`, {
      details: { name, node, epoch },
    });
  }
}

/** A fork's parent state at the fork point is larger than the record that starts the fork's chain. */
export class DaemonForkStateTooLargeError extends MeshError {
  constructor(name: string, parent: string, stateBytes: number, maxStateBytes: number) {
    super(
      'DAEMON_FORK_STATE_TOO_LARGE',
      `daemon ${name} cannot fork ${parent}: its state at the fork point is ${stateBytes} bytes, a fork starts from at most ${maxStateBytes}`,
      { details: { name, parent, stateBytes, maxStateBytes } },
    );
  }
}

/** A frame on the daemons channel that is not one this code sent; the receiver drops it. */
export class DaemonPeerFrameError extends MeshError {
  constructor(problem: string) {
    super('DAEMON_PEER_FRAME_INVALID', problem);
  }
}
