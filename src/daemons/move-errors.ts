/**
 * Typed errors of `daemon move` (docs/DAEMONS.md "Move"). Each but `DAEMON_MOVE_FAILED` is
 * answered before anything changed; `DAEMON_MOVE_FAILED` names the phase that failed, and the
 * active stayed where it was (the cutover is one compare-and-swap: it happened or it did not).
 */
import { MeshError, type NodeId } from '../lib/index.js';

/** The target is not a node of the mesh. */
export class DaemonMoveTargetUnknownError extends MeshError {
  constructor(name: string, to: NodeId) {
    super('DAEMON_MOVE_TARGET_UNKNOWN', `cannot move daemon ${name} to node ${to}: no such node`, {
      details: { name, to },
    });
  }
}

/** The target is a node of the mesh that cannot run a member now (not registered, or suspected). */
export class DaemonMoveTargetUnhealthyError extends MeshError {
  constructor(name: string, to: NodeId) {
    super(
      'DAEMON_MOVE_TARGET_UNHEALTHY',
      `cannot move daemon ${name} to node ${to}: the node is not healthy`,
      {
        details: { name, to },
      },
    );
  }
}

/** The daemon's active already runs on the target. */
export class DaemonMoveAlreadyThereError extends MeshError {
  constructor(name: string, to: NodeId) {
    super('DAEMON_MOVE_ALREADY_THERE', `daemon ${name}'s active already runs on node ${to}`, {
      details: { name, to },
    });
  }
}

/** Another move of the daemon has not finished. */
export class DaemonMoveInProgressError extends MeshError {
  constructor(name: string) {
    super('DAEMON_MOVE_IN_PROGRESS', `daemon ${name} is being moved already`, { details: { name } });
  }
}

/** A phase failed before the cutover: the active stayed where it was. */
export class DaemonMoveFailedError extends MeshError {
  constructor(name: string, phase: string, reason: string, cause?: unknown) {
    super(
      'DAEMON_MOVE_FAILED',
      `moving daemon ${name} failed in phase ${phase}: ${reason}; its active did not move`,
      {
        details: { name, phase, reason },
        ...(cause === undefined ? {} : { cause }),
      },
    );
  }
}
