import { ValidationError } from './errors.js';
import { isNodeId } from './node-id.js';

/**
 * For checking values that arrive from plain JavaScript, where the declared types promise
 * nothing: a config that is not an object, a number given as a string, a missing field.
 */

/** A non-null, non-array object whose fields may be read. */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DESCRIBED_STRING_CHARACTERS = 40;

/** A short description of a value for an error message: `undefined`, `null`, `"abc"`, `42`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return JSON.stringify(
        value.length > DESCRIBED_STRING_CHARACTERS
          ? `${value.slice(0, DESCRIBED_STRING_CHARACTERS)}…`
          : value,
      );
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return value instanceof Uint8Array ? `${value.length} bytes` : 'an object';
  }
}

/**
 * Collects what is wrong with input that may come from plain JavaScript, one message per
 * problem, so that a `ValidationError` can list them all at once. Each check names the field
 * and what was given instead.
 */
export class InputProblems {
  readonly list: string[] = [];

  /** Throws one `ValidationError` about `subject` listing every problem, if there is any. */
  throwIfAny(subject: string): void {
    if (this.list.length > 0) throw new ValidationError(subject, this.list);
  }

  add(message: string): void {
    this.list.push(message);
  }

  /** True when `value` is an object whose fields may be read; otherwise records the problem. */
  record(field: string, value: unknown): value is Readonly<Record<string, unknown>> {
    if (isRecord(value)) return true;
    this.add(`${field} must be an object, got ${describeValue(value)}`);
    return false;
  }

  integer(field: string, value: unknown, min: number, max: number): void {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return;
    this.add(`${field} must be an integer in [${min}, ${max}], got ${describeValue(value)}`);
  }

  nodeId(field: string, value: unknown): void {
    if (isNodeId(value)) return;
    this.add(`${field} must be a node id (a positive safe integer), got ${describeValue(value)}`);
  }

  nonNegativeNumber(field: string, value: unknown): void {
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return;
    this.add(`${field} must be a finite number >= 0, got ${describeValue(value)}`);
  }

  bytes(field: string, value: unknown, lengthBytes: number): void {
    if (value instanceof Uint8Array && value.length === lengthBytes) return;
    this.add(`${field} must be ${lengthBytes} bytes (a Uint8Array), got ${describeValue(value)}`);
  }

  text(field: string, value: unknown): void {
    if (typeof value === 'string' && value.length > 0) return;
    this.add(`${field} must be a non-empty string, got ${describeValue(value)}`);
  }

  oneOf(field: string, value: unknown, allowed: readonly string[]): void {
    if (typeof value === 'string' && allowed.includes(value)) return;
    this.add(
      `${field} must be one of ${allowed.map((name) => `'${name}'`).join(', ')}, got ${describeValue(value)}`,
    );
  }

  func(field: string, value: unknown): void {
    if (typeof value === 'function') return;
    this.add(`${field} must be a function, got ${describeValue(value)}`);
  }

  boolean(field: string, value: unknown): void {
    if (typeof value === 'boolean') return;
    this.add(`${field} must be true or false, got ${describeValue(value)}`);
  }

  /** An object with each of these methods (a Clock, a Random, a daemon). */
  methods(field: string, value: unknown, names: readonly string[]): void {
    if (!this.record(field, value)) return;
    const missing = names.filter((name) => typeof value[name] !== 'function');
    if (missing.length > 0) this.add(`${field} lacks the method(s) ${missing.join(', ')}`);
  }

  addAll(problems: readonly string[]): void {
    for (const problem of problems) this.add(problem);
  }

  /** Each problem of a nested object, its field prefixed. */
  nested(field: string, problems: readonly string[]): void {
    for (const problem of problems) this.add(`${field}.${problem}`);
  }
}
