import { MeshError } from '../lib/index.js';

/** One thing wrong with an AppSpec. `compile()` returns all of them at once. */
export type SpecProblem =
  | {
      readonly code: 'DUPLICATE_NAME';
      readonly supervisor: string;
      readonly child: string;
      readonly message: string;
    }
  | {
      readonly code: 'DUPLICATE_REGION';
      readonly supervisor: string;
      readonly region: string;
      readonly children: readonly string[];
      readonly message: string;
    }
  | {
      readonly code: 'UNKNOWN_DEPENDENCY';
      readonly supervisor: string;
      readonly child: string;
      readonly dependency: string;
      readonly message: string;
    }
  | {
      readonly code: 'DEPENDENCY_CYCLE';
      readonly supervisor: string;
      /** Each child depends on the next one; the last depends on the first. */
      readonly cycle: readonly string[];
      readonly message: string;
    }
  | {
      readonly code: 'REQUIRED_DEPENDS_ON_OPTIONAL';
      readonly supervisor: string;
      readonly child: string;
      readonly dependency: string;
      readonly message: string;
    }
  | {
      readonly code: 'EAGER_DEPENDS_ON_ON_DEMAND';
      readonly supervisor: string;
      readonly child: string;
      readonly dependency: string;
      readonly message: string;
    }
  | {
      readonly code: 'DRAIN_ACTION_MISSING';
      readonly supervisor: string;
      readonly child: string;
      readonly message: string;
    }
  | {
      readonly code: 'INVALID_CHILD';
      readonly supervisor: string;
      readonly child: string;
      readonly field: string;
      readonly message: string;
    }
  | {
      readonly code: 'INVALID_SUPERVISOR';
      readonly supervisor: string;
      readonly field: string;
      readonly message: string;
    };

export type SpecProblemCode = SpecProblem['code'];

/** Thrown by `compileOrThrow` and `Supervisor.start` when the AppSpec does not compile. */
export class SpecCompileError extends MeshError {
  readonly problems: readonly SpecProblem[];

  constructor(supervisor: string, problems: readonly SpecProblem[]) {
    super(
      'SUPERVISOR_SPEC_INVALID',
      `AppSpec '${supervisor}' is invalid: ${problems.map((problem) => problem.message).join('; ')}`,
      { details: { problems } },
    );
    this.problems = problems;
  }
}

/** A child did not become ready: its start function failed, timed out, or its name was taken. */
export class ChildStartError extends MeshError {
  readonly child: string;

  constructor(child: string, reason: string, cause?: unknown) {
    super('SUPERVISOR_CHILD_START_FAILED', `child '${child}' failed to start: ${reason}`, {
      cause,
      details: { child, reason },
    });
    this.child = child;
  }
}

/** A required child failed at boot; everything that had started was stopped again. */
export class BootFailedError extends MeshError {
  readonly supervisor: string;
  readonly child: string;

  constructor(supervisor: string, child: string, cause: unknown) {
    super(
      'SUPERVISOR_BOOT_FAILED',
      `supervisor '${supervisor}' failed to boot: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, details: { supervisor, child } },
    );
    this.supervisor = supervisor;
    this.child = child;
  }
}

/** A critical child spent its restart budget, so its supervisor gave up. */
export class EscalationError extends MeshError {
  readonly supervisor: string;
  readonly child: string;

  constructor(supervisor: string, child: string, reason: string, cause?: unknown) {
    super('SUPERVISOR_ESCALATED', `supervisor '${supervisor}' gave up: child '${child}' ${reason}`, {
      cause,
      details: { supervisor, child, reason },
    });
    this.supervisor = supervisor;
    this.child = child;
  }
}

/** A name lease could not be acquired under the `fail` policy, or a `wait` was abandoned. */
export class NameTakenError extends MeshError {
  readonly leaseName: string;
  readonly holder: string;

  constructor(leaseName: string, holder: string, reason: string) {
    super('SUPERVISOR_NAME_TAKEN', `name '${leaseName}' is held by '${holder}': ${reason}`, {
      details: { name: leaseName, holder, reason },
    });
    this.leaseName = leaseName;
    this.holder = holder;
  }
}

/** The operation needs a phase the supervisor is not in (for example `startChild` before boot). */
export class SupervisorStateError extends MeshError {
  constructor(message: string) {
    super('SUPERVISOR_BAD_STATE', message);
  }
}
