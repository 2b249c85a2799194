import { describeValue, isRecord } from '../lib/index.js';
import {
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_JITTER_RATIO,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_BACKOFF_MULTIPLIER,
  DEFAULT_DRAIN_DEADLINE_MS,
  DEFAULT_MAX_RESTARTS,
  DEFAULT_NESTED_SUPERVISOR_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_RESTART_PERIOD_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_START_TIMEOUT_MS,
  MAX_CHILDREN_PER_SUPERVISOR,
  MAX_RESTARTS_LIMIT,
  MAX_TIMEOUT_MS,
} from './constants.js';
import { SpecCompileError, type SpecProblem } from './errors.js';
import { findDependencyCycles, topologicalOrder } from './graph.js';
import type { PlannedEvent } from './lifecycle.js';
import type {
  ChildSpec,
  ChildStart,
  CollisionPolicy,
  RestartPolicy,
  StopAction,
  Strategy,
  SupervisorSpec,
} from './spec.js';
import { childShapeProblems, isStringArray, supervisorShapeProblems } from './spec-shape.js';

/** A stop action with every default filled in. */
export type CompiledStopAction =
  | { readonly kind: 'drain'; readonly requireResumeState: boolean; readonly deadlineMs: number }
  | { readonly kind: 'release-name-lease' }
  | { readonly kind: 'stop-child' };

export interface CompiledChild {
  readonly name: string;
  readonly role: string;
  readonly region: string;
  /** Position in the declaration; breaks ties in the start order. */
  readonly declarationIndex: number;
  readonly start?: ChildStart;
  readonly supervisor?: CompiledSupervisor;
  readonly dependsOn: readonly string[];
  /** Children that list this one in `dependsOn`. */
  readonly dependents: readonly string[];
  readonly restart: RestartPolicy;
  readonly stopActions: readonly CompiledStopAction[];
  readonly shutdownTimeoutMs: number;
  readonly startTimeoutMs: number;
  readonly required: boolean;
  readonly activation: 'eager' | 'on-demand';
  readonly resumeState: 'required' | 'none';
  readonly lease?: { readonly name: string; readonly onCollision: CollisionPolicy };
}

export interface CompiledSupervisor {
  readonly name: string;
  /** `root/child/...`: where this supervisor sits in the tree. */
  readonly path: string;
  readonly strategy: Strategy;
  readonly restartDependents: boolean;
  /** In declaration order. */
  readonly children: readonly CompiledChild[];
  readonly childrenByName: ReadonlyMap<string, CompiledChild>;
  /** Topological: every child after all it depends on; ties by declaration order. */
  readonly startOrder: readonly string[];
  /** The start order reversed. */
  readonly stopOrder: readonly string[];
  /** Start events of the eager children, in start order. */
  readonly startEvents: readonly PlannedEvent[];
  /** Each child's stop actions in stop order, then `join-root`. */
  readonly shutdownEvents: readonly PlannedEvent[];
}

export type CompileResult =
  | { readonly ok: true; readonly compiled: CompiledSupervisor }
  | { readonly ok: false; readonly problems: readonly SpecProblem[] };

const DEFAULT_STOP_ACTIONS: readonly CompiledStopAction[] = [
  { kind: 'release-name-lease' },
  { kind: 'stop-child' },
];

/**
 * Validates an AppSpec (and every nested one) and returns either the compiled tree or every
 * problem found. Pure: the same spec always gives the same result.
 */
export function compile(spec: SupervisorSpec): CompileResult {
  const problems: SpecProblem[] = [];
  const regions = new Map<string, string>();
  const compiled = compileSupervisor(spec, rootPath(spec), problems, regions);
  if (problems.length > 0 || compiled === undefined) return { ok: false, problems };
  return { ok: true, compiled };
}

/** `compile` for callers that want an exception: throws `SpecCompileError` listing every problem. */
export function compileOrThrow(spec: SupervisorSpec): CompiledSupervisor {
  const result = compile(spec);
  if (!result.ok) throw new SpecCompileError(rootPath(spec), result.problems);
  return result.compiled;
}

/** The root's name, or a stand-in when plain JavaScript gave none. */
function rootPath(spec: SupervisorSpec): string {
  return isRecord(spec) && typeof spec.name === 'string' ? spec.name : '(root)';
}

function compileSupervisor(
  spec: SupervisorSpec,
  path: string,
  problems: SpecProblem[],
  regions: Map<string, string>,
): CompiledSupervisor | undefined {
  const problemCountBefore = problems.length;
  if (!isRecord(spec)) {
    problems.push({
      code: 'INVALID_SUPERVISOR',
      supervisor: path,
      field: 'spec',
      message: `supervisor at '${path}' must be an object, got ${describeValue(spec)}`,
    });
    return undefined;
  }
  supervisorShapeProblems(spec, (field, message) =>
    problems.push({
      code: 'INVALID_SUPERVISOR',
      supervisor: path,
      field,
      message: `supervisor '${path}': ${message}`,
    }),
  );
  const childSpecs: readonly unknown[] = Array.isArray(spec.children) ? spec.children : [];
  if (spec.name?.length === 0) {
    problems.push({
      code: 'INVALID_SUPERVISOR',
      supervisor: path,
      field: 'name',
      message: `supervisor at '${path}' has an empty name`,
    });
  }
  if (childSpecs.length > MAX_CHILDREN_PER_SUPERVISOR) {
    problems.push({
      code: 'INVALID_SUPERVISOR',
      supervisor: path,
      field: 'children',
      message: `supervisor '${path}' has ${childSpecs.length} children, more than ${MAX_CHILDREN_PER_SUPERVISOR}`,
    });
  }

  const specsByName = new Map<string, ChildSpec>();
  const children: CompiledChild[] = [];
  childSpecs.forEach((input, index) => {
    const child = shapedChild(input, index, path, problems);
    if (child === undefined) return;
    if (specsByName.has(child.name)) {
      problems.push({
        code: 'DUPLICATE_NAME',
        supervisor: path,
        child: child.name,
        message: `supervisor '${path}' declares child '${child.name}' more than once`,
      });
      return;
    }
    specsByName.set(child.name, child);
    if (!child.wellShaped) return;
    const compiledChild = compileChild(child, index, path, problems, regions);
    if (compiledChild !== undefined) children.push(compiledChild);
  });

  const dependencies = new Map<string, readonly string[]>();
  const declared = [...specsByName.keys()];
  for (const [name, child] of specsByName) {
    const known: string[] = [];
    for (const dependency of isStringArray(child.dependsOn) ? child.dependsOn : []) {
      const target = specsByName.get(dependency);
      if (target === undefined) {
        problems.push({
          code: 'UNKNOWN_DEPENDENCY',
          supervisor: path,
          child: name,
          dependency,
          message: `child '${name}' in '${path}' depends on unknown child '${dependency}'`,
        });
        continue;
      }
      if (!known.includes(dependency)) known.push(dependency);
      if ((child.required ?? true) && !(target.required ?? true)) {
        problems.push({
          code: 'REQUIRED_DEPENDS_ON_OPTIONAL',
          supervisor: path,
          child: name,
          dependency,
          message: `required child '${name}' in '${path}' depends on optional child '${dependency}'`,
        });
      }
      if ((child.activation ?? 'eager') === 'eager' && target.activation === 'on-demand') {
        problems.push({
          code: 'EAGER_DEPENDS_ON_ON_DEMAND',
          supervisor: path,
          child: name,
          dependency,
          message: `eager child '${name}' in '${path}' depends on on-demand child '${dependency}'`,
        });
      }
    }
    dependencies.set(name, known);
  }

  const order = topologicalOrder(declared, dependencies);
  if (order === undefined) {
    for (const cycle of findDependencyCycles(declared, dependencies)) {
      problems.push({
        code: 'DEPENDENCY_CYCLE',
        supervisor: path,
        cycle,
        message: `dependency cycle in '${path}': ${[...cycle, cycle[0]].join(' -> ')} (each depends on the next)`,
      });
    }
  }
  if (problems.length > problemCountBefore || order === undefined) return undefined;

  const dependents = new Map<string, string[]>(declared.map((name) => [name, []]));
  for (const name of declared) {
    for (const dependency of dependencies.get(name) ?? []) dependents.get(dependency)?.push(name);
  }
  const finished = children.map((child) => ({
    ...child,
    dependsOn: dependencies.get(child.name) ?? [],
    dependents: dependents.get(child.name) ?? [],
  }));
  const childrenByName = new Map(finished.map((child) => [child.name, child]));
  const stopOrder = [...order].reverse();
  return {
    name: spec.name,
    path,
    strategy: spec.strategy ?? 'one-for-one',
    restartDependents: spec.restartDependents ?? true,
    children: finished,
    childrenByName,
    startOrder: order,
    stopOrder,
    startEvents: order
      .filter((name) => childrenByName.get(name)?.activation === 'eager')
      .map((name) => ({ phase: 'Starting', child: name, action: 'start-child' })),
    shutdownEvents: [
      ...stopOrder.flatMap((name) =>
        (childrenByName.get(name)?.stopActions ?? []).map(
          (action): PlannedEvent => ({ phase: 'Draining', child: name, action: plannedAction(action) }),
        ),
      ),
      { phase: 'Stopped', action: 'join-root' },
    ],
  };
}

/**
 * The child as a `ChildSpec` once its fields have the right shape. A child with a string name
 * but badly shaped fields is still returned (marked) so that its siblings' dependencies on it
 * resolve and are not reported as unknown; one without a name is dropped.
 */
function shapedChild(
  input: unknown,
  index: number,
  path: string,
  problems: SpecProblem[],
): (ChildSpec & { readonly wellShaped: boolean }) | undefined {
  if (!isRecord(input)) {
    problems.push({
      code: 'INVALID_CHILD',
      supervisor: path,
      child: `#${index}`,
      field: 'spec',
      message: `child #${index} in '${path}' must be an object, got ${describeValue(input)}`,
    });
    return undefined;
  }
  const label = typeof input.name === 'string' ? input.name : `#${index}`;
  const wellShaped = childShapeProblems(input, (field, message) =>
    problems.push({
      code: 'INVALID_CHILD',
      supervisor: path,
      child: label,
      field,
      message: `child '${label}' in '${path}': ${message}`,
    }),
  );
  if (typeof input.name !== 'string') return undefined;
  return { ...(input as unknown as ChildSpec), wellShaped };
}

function plannedAction(action: CompiledStopAction): PlannedEvent['action'] {
  return action.kind === 'drain' ? 'drain' : action.kind;
}

function compileChild(
  child: ChildSpec,
  declarationIndex: number,
  path: string,
  problems: SpecProblem[],
  regions: Map<string, string>,
): CompiledChild | undefined {
  const before = problems.length;
  const invalid = (field: string, message: string): void => {
    problems.push({ code: 'INVALID_CHILD', supervisor: path, child: child.name, field, message });
  };
  const label = `child '${child.name}' in '${path}'`;
  if (child.name.length === 0 || child.name.includes('/')) {
    invalid('name', `${label} needs a non-empty name without '/'`);
  }
  const region = child.region ?? `${path}/${child.name}`;
  const regionOwner = regions.get(region);
  if (regionOwner !== undefined) {
    problems.push({
      code: 'DUPLICATE_REGION',
      supervisor: path,
      region,
      children: [regionOwner, `${path}/${child.name}`],
      message: `region '${region}' is used by both '${regionOwner}' and '${path}/${child.name}'`,
    });
  } else {
    regions.set(region, `${path}/${child.name}`);
  }
  if ((child.start === undefined) === (child.supervisor === undefined)) {
    invalid('start', `${label} needs exactly one of 'start' and 'supervisor'`);
  }
  const required = child.required ?? true;
  const restart = compileRestartPolicy(child, required, invalid, label);
  const timeouts = {
    start: checkDuration(child.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, 'startTimeoutMs', invalid, label),
    shutdown: checkDuration(
      child.shutdownTimeoutMs ??
        (child.supervisor === undefined
          ? DEFAULT_SHUTDOWN_TIMEOUT_MS
          : DEFAULT_NESTED_SUPERVISOR_SHUTDOWN_TIMEOUT_MS),
      'shutdownTimeoutMs',
      invalid,
      label,
    ),
  };
  const stopActions = compileStopActions(child.stopActions, invalid, label);
  const resumeState = child.resumeState ?? 'none';
  if (
    resumeState === 'required' &&
    !stopActions.some((action) => action.kind === 'drain' && action.requireResumeState)
  ) {
    problems.push({
      code: 'DRAIN_ACTION_MISSING',
      supervisor: path,
      child: child.name,
      message: `${label} requires resume state but has no drain stop action that persists it`,
    });
  }
  let nested: CompiledSupervisor | undefined;
  if (child.supervisor !== undefined) {
    nested = compileSupervisor(child.supervisor, `${path}/${child.name}`, problems, regions);
  }
  if (problems.length > before) return undefined;
  const lease =
    child.lease === false
      ? undefined
      : { name: child.lease?.name ?? child.name, onCollision: child.lease?.onCollision ?? 'fail' };
  return {
    name: child.name,
    role: child.role ?? child.name,
    region,
    declarationIndex,
    ...(child.start === undefined ? {} : { start: child.start }),
    ...(nested === undefined ? {} : { supervisor: nested }),
    dependsOn: [],
    dependents: [],
    restart,
    stopActions,
    shutdownTimeoutMs: timeouts.shutdown,
    startTimeoutMs: timeouts.start,
    required,
    activation: child.activation ?? 'eager',
    resumeState,
    ...(lease === undefined ? {} : { lease }),
  };
}

function compileRestartPolicy(
  child: ChildSpec,
  required: boolean,
  invalid: (field: string, message: string) => void,
  label: string,
): RestartPolicy {
  const input = child.restart ?? {};
  const policy: RestartPolicy = {
    type: input.type ?? 'permanent',
    maxRestarts: input.maxRestarts ?? DEFAULT_MAX_RESTARTS,
    periodMs: input.periodMs ?? DEFAULT_RESTART_PERIOD_MS,
    backoff: {
      initialMs: input.backoff?.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS,
      maxMs: input.backoff?.maxMs ?? DEFAULT_BACKOFF_MAX_MS,
      multiplier: input.backoff?.multiplier ?? DEFAULT_BACKOFF_MULTIPLIER,
      jitterRatio: input.backoff?.jitterRatio ?? DEFAULT_BACKOFF_JITTER_RATIO,
    },
    onExhausted: input.onExhausted ?? (required ? 'critical' : 'disable-optional'),
  };
  if (
    !Number.isInteger(policy.maxRestarts) ||
    policy.maxRestarts < 0 ||
    policy.maxRestarts > MAX_RESTARTS_LIMIT
  ) {
    invalid('restart.maxRestarts', `${label} maxRestarts must be an integer in [0, ${MAX_RESTARTS_LIMIT}]`);
  }
  if (!(policy.periodMs > 0 && policy.periodMs <= MAX_TIMEOUT_MS)) {
    invalid('restart.periodMs', `${label} periodMs must be in (0, ${MAX_TIMEOUT_MS}]`);
  }
  const backoff = policy.backoff;
  if (!(backoff.initialMs >= 0 && backoff.maxMs >= backoff.initialMs && backoff.maxMs <= MAX_TIMEOUT_MS)) {
    invalid('restart.backoff', `${label} backoff needs 0 <= initialMs <= maxMs <= ${MAX_TIMEOUT_MS}`);
  }
  if (!(backoff.multiplier >= 1 && Number.isFinite(backoff.multiplier))) {
    invalid('restart.backoff.multiplier', `${label} backoff multiplier must be a finite number >= 1`);
  }
  if (!(backoff.jitterRatio >= 0 && backoff.jitterRatio <= 1)) {
    invalid('restart.backoff.jitterRatio', `${label} backoff jitterRatio must be in [0, 1]`);
  }
  if (policy.onExhausted === 'disable-optional' && required) {
    invalid('restart.onExhausted', `${label} is required, so it cannot be disabled when its budget is spent`);
  }
  return policy;
}

function checkDuration(
  valueMs: number,
  field: string,
  invalid: (field: string, message: string) => void,
  label: string,
): number {
  if (!(valueMs > 0 && valueMs <= MAX_TIMEOUT_MS))
    invalid(field, `${label} ${field} must be in (0, ${MAX_TIMEOUT_MS}]`);
  return valueMs;
}

function compileStopActions(
  actions: readonly StopAction[] | undefined,
  invalid: (field: string, message: string) => void,
  label: string,
): readonly CompiledStopAction[] {
  if (actions === undefined) return DEFAULT_STOP_ACTIONS;
  const kinds = actions.map((action) => action.kind);
  if (new Set(kinds).size !== kinds.length)
    invalid('stopActions', `${label} lists a stop action more than once`);
  if (kinds[kinds.length - 1] !== 'stop-child') {
    invalid('stopActions', `${label} stop actions must end with 'stop-child'`);
  }
  return actions.map((action): CompiledStopAction => {
    if (action.kind !== 'drain') return action;
    const deadlineMs = checkDuration(
      action.deadlineMs ?? DEFAULT_DRAIN_DEADLINE_MS,
      'stopActions.drain.deadlineMs',
      invalid,
      label,
    );
    return { kind: 'drain', requireResumeState: action.requireResumeState, deadlineMs };
  });
}
