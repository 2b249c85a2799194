import { describeValue, isRecord } from '../lib/index.js';

/**
 * Shape checks on an AppSpec that may come from plain JavaScript, where the declared types
 * promise nothing. They run before `compile` reads a field, so a malformed spec is reported
 * as problems (every one of them) instead of failing with a TypeError. `compile` checks the
 * meaning of well-shaped fields itself.
 */

/** Records one problem with a field: `field` names it, `message` says what is wrong. */
export type Invalid = (field: string, message: string) => void;

export const STRATEGIES = ['one-for-one', 'one-for-all', 'rest-for-one'] as const;
const RESTART_TYPES = ['permanent', 'transient', 'temporary'] as const;
const EXHAUSTION_ACTIONS = ['critical', 'disable-optional'] as const;
const ACTIVATIONS = ['eager', 'on-demand'] as const;
const RESUME_STATES = ['required', 'none'] as const;
export const COLLISION_POLICIES = ['fail', 'replace', 'wait'] as const;
const STOP_ACTION_KINDS = ['drain', 'release-name-lease', 'stop-child'] as const;

/** A field that may be left out, but when given must be one of `allowed`. */
function optionalOneOf(invalid: Invalid, field: string, value: unknown, allowed: readonly string[]): void {
  if (value === undefined || (typeof value === 'string' && allowed.includes(value))) return;
  invalid(field, `${field} must be one of ${allowed.join(', ')}, got ${describeValue(value)}`);
}

function optionalType(
  invalid: Invalid,
  field: string,
  value: unknown,
  type: 'string' | 'boolean' | 'number',
): void {
  if (value === undefined || typeof value === type) return;
  invalid(field, `${field} must be a ${type}, got ${describeValue(value)}`);
}

/** True when every element of `value` is a string. */
export function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Problems with a supervisor's own fields (not its children). */
export function supervisorShapeProblems(spec: Readonly<Record<string, unknown>>, invalid: Invalid): void {
  if (typeof spec.name !== 'string')
    invalid('name', `name must be a string, got ${describeValue(spec.name)}`);
  if (!Array.isArray(spec.children)) {
    invalid('children', `children must be an array of child specs, got ${describeValue(spec.children)}`);
  }
  optionalOneOf(invalid, 'strategy', spec.strategy, STRATEGIES);
  optionalType(invalid, 'restartDependents', spec.restartDependents, 'boolean');
}

/** Problems with the shape of one child's fields; true when the child can be compiled further. */
export function childShapeProblems(child: Readonly<Record<string, unknown>>, invalid: Invalid): boolean {
  let found = 0;
  const counted: Invalid = (field, message) => {
    found++;
    invalid(field, message);
  };
  if (typeof child.name !== 'string')
    counted('name', `name must be a string, got ${describeValue(child.name)}`);
  optionalType(counted, 'role', child.role, 'string');
  optionalType(counted, 'region', child.region, 'string');
  if (child.start !== undefined && typeof child.start !== 'function') {
    counted('start', `start must be a function, got ${describeValue(child.start)}`);
  }
  if (child.supervisor !== undefined && !isRecord(child.supervisor)) {
    counted(
      'supervisor',
      `supervisor must be a supervisor spec (an object), got ${describeValue(child.supervisor)}`,
    );
  }
  if (child.dependsOn !== undefined && !isStringArray(child.dependsOn)) {
    counted('dependsOn', `dependsOn must be an array of child names, got ${describeValue(child.dependsOn)}`);
  }
  restartShapeProblems(child.restart, counted);
  stopActionsShapeProblems(child.stopActions, counted);
  optionalType(counted, 'shutdownTimeoutMs', child.shutdownTimeoutMs, 'number');
  optionalType(counted, 'startTimeoutMs', child.startTimeoutMs, 'number');
  optionalType(counted, 'required', child.required, 'boolean');
  optionalOneOf(counted, 'activation', child.activation, ACTIVATIONS);
  optionalOneOf(counted, 'resumeState', child.resumeState, RESUME_STATES);
  const lease = child.lease;
  if (lease !== undefined && lease !== false) {
    if (!isRecord(lease)) {
      counted('lease', `lease must be false or an object, got ${describeValue(lease)}`);
    } else {
      optionalType(counted, 'lease.name', lease.name, 'string');
      optionalOneOf(counted, 'lease.onCollision', lease.onCollision, COLLISION_POLICIES);
    }
  }
  return found === 0;
}

function restartShapeProblems(restart: unknown, invalid: Invalid): void {
  if (restart === undefined) return;
  if (!isRecord(restart)) {
    invalid('restart', `restart must be an object, got ${describeValue(restart)}`);
    return;
  }
  optionalOneOf(invalid, 'restart.type', restart.type, RESTART_TYPES);
  optionalOneOf(invalid, 'restart.onExhausted', restart.onExhausted, EXHAUSTION_ACTIONS);
  optionalType(invalid, 'restart.maxRestarts', restart.maxRestarts, 'number');
  optionalType(invalid, 'restart.periodMs', restart.periodMs, 'number');
  const backoff = restart.backoff;
  if (backoff === undefined) return;
  if (!isRecord(backoff)) {
    invalid('restart.backoff', `restart.backoff must be an object, got ${describeValue(backoff)}`);
    return;
  }
  for (const field of ['initialMs', 'maxMs', 'multiplier', 'jitterRatio']) {
    optionalType(invalid, `restart.backoff.${field}`, backoff[field], 'number');
  }
}

function stopActionsShapeProblems(actions: unknown, invalid: Invalid): void {
  if (actions === undefined) return;
  if (!Array.isArray(actions)) {
    invalid('stopActions', `stopActions must be an array, got ${describeValue(actions)}`);
    return;
  }
  actions.forEach((action: unknown, index) => {
    const field = `stopActions[${index}]`;
    if (!isRecord(action)) {
      invalid(field, `${field} must be an object, got ${describeValue(action)}`);
      return;
    }
    optionalOneOf(invalid, `${field}.kind`, action.kind ?? null, STOP_ACTION_KINDS);
    if (action.kind !== 'drain') return;
    if (typeof action.requireResumeState !== 'boolean') {
      invalid(
        `${field}.requireResumeState`,
        `${field}.requireResumeState must be true or false, got ${describeValue(action.requireResumeState)}`,
      );
    }
    optionalType(invalid, `${field}.deadlineMs`, action.deadlineMs, 'number');
  });
}
