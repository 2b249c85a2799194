/**
 * Typed errors of `meshos node drain|maintenance` (docs/RECONCILE.md "Maintenance on a running
 * mesh"): each names the node and what was wrong, with a stable code the CLI prints.
 */
import { MeshError, type NodeId } from '../lib/index.js';

/** The node is neither registered in the mesh nor has a maintenance record. */
export class MaintenanceNodeUnknownError extends MeshError {
  constructor(node: NodeId) {
    super(
      'MAINTENANCE_NODE_UNKNOWN',
      `node ${node} is not a node of the mesh (not registered, no maintenance record)`,
      {
        details: { node },
      },
    );
  }
}

/** A drain deadline or a ramp-up that is not whole milliseconds within its bounds. */
export class MaintenanceDurationError extends MeshError {
  constructor(
    code: 'MAINTENANCE_DEADLINE_INVALID' | 'MAINTENANCE_RAMP_UP_INVALID',
    what: string,
    value: number,
    maxMs: number,
  ) {
    super(code, `${what} must be whole milliseconds from 1 to ${maxMs}, got ${value}`, {
      details: { value, maxMs },
    });
  }
}

/** `maintenance exit` of a node that is Active and was not asked to enter maintenance. */
export class MaintenanceNotEnteredError extends MeshError {
  constructor(node: NodeId) {
    super('MAINTENANCE_NOT_ENTERED', `node ${node} is Active: it is not in maintenance, nothing to exit`, {
      details: { node },
    });
  }
}

/** `maintenance enter` of a node whose drain failed: the operator exits first, then enters again. */
export class MaintenanceDrainFailedError extends MeshError {
  constructor(node: NodeId, reason: string) {
    super(
      'MAINTENANCE_DRAIN_FAILED',
      `node ${node}'s drain failed (${reason}); exit maintenance first ('meshos node maintenance exit ${node}'), then enter again`,
      { details: { node, reason } },
    );
  }
}

/** The node's maintenance record kept changing under every attempt to write it. */
export class MaintenanceWriteConflictError extends MeshError {
  constructor(node: NodeId, attempts: number) {
    super(
      'MAINTENANCE_WRITE_CONFLICT',
      `node ${node}'s maintenance record changed under each of ${attempts} attempts to write it`,
      { details: { node, attempts } },
    );
  }
}

/** A commit by a reconciler whose term ended (its fence no longer holds): nothing was written. */
export class MaintenanceWriteFencedError extends MeshError {
  constructor(node: NodeId) {
    super(
      'MAINTENANCE_WRITE_FENCED',
      `node ${node}'s transition was not committed: the reconciler term that asked for it ended`,
      {
        details: { node },
      },
    );
  }
}

/** The reconciler asked for a drain's outcome of a node that is up: the node's agent commits it. */
export class MaintenanceOutcomeByNodeError extends MeshError {
  constructor(node: NodeId, phase: string) {
    super(
      'MAINTENANCE_OUTCOME_BY_NODE',
      `node ${node} is up: its own maintenance agent commits ${phase} (it sees what the node holds and why)`,
      { details: { node, phase } },
    );
  }
}
