/**
 * The reconcile loop's typed errors. A bad observed or desired state is one
 * `ReconcileInputError` listing every problem found, each with its own stable code, so a caller
 * (and a test) can match on what was wrong without parsing messages.
 */
import { MeshError } from '../lib/index.js';

/** What one problem of a reconcile input is; stable, matched on by callers. */
export type ReconcileProblemCode =
  | 'UNKNOWN_NODE'
  | 'DUPLICATE_ENTRY'
  | 'INVALID_COUNT'
  | 'INVALID_TIME'
  | 'INVALID_NAME'
  | 'INVALID_VALUE';

export interface ReconcileProblem {
  readonly code: ReconcileProblemCode;
  /** Where in the input, as `observed.nodes[3].zone` or `desired.chains[orders]`. */
  readonly path: string;
  readonly message: string;
}

export class ReconcileInputError extends MeshError {
  readonly problems: readonly ReconcileProblem[];

  constructor(problems: readonly ReconcileProblem[], unreported: number) {
    const listed = problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ');
    const more = unreported > 0 ? ` (and ${unreported} more)` : '';
    super('RECONCILE_INPUT_INVALID', `reconcile input is invalid: ${listed}${more}`, {
      details: { problems, unreported },
    });
    this.problems = problems;
  }
}

/** A maintenance transition the state machine does not allow from the node's current state. */
export class MaintenanceTransitionError extends MeshError {
  constructor(node: number, from: string, to: string) {
    super(
      'MAINTENANCE_TRANSITION_INVALID',
      `node ${node} cannot go from ${from} to ${to} (docs/RECONCILE.md "Maintenance")`,
      { details: { node, from, to } },
    );
  }
}

/** An avoid entry that cannot be taken: a bad TTL, or the list is full. */
export class AvoidListError extends MeshError {
  constructor(code: 'AVOID_TTL_INVALID' | 'AVOID_LIST_FULL', message: string) {
    super(code, message);
  }
}

/** An action id the executor never saw, an unknown action kind, or a time that runs backwards. */
export class ExecutorInputError extends MeshError {
  constructor(code: 'ACTION_ID_INVALID' | 'ACTION_KIND_INVALID' | 'EXECUTOR_TIME_INVALID', message: string) {
    super(code, message);
  }
}
