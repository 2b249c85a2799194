/**
 * Errors are values with stable codes. Operating errors (bad input, lost peers, full queues)
 * are `MeshError` subclasses that callers match on by `code`; programmer errors are
 * `AssertionError`s raised by `assert`.
 */
export class MeshError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details ?? {};
  }
}

/** Configuration or request did not validate; `problems` lists every one found, not just the first. */
export class ValidationError extends MeshError {
  readonly problems: readonly string[];

  constructor(subject: string, problems: readonly string[]) {
    super('VALIDATION_FAILED', `${subject} is invalid: ${problems.join('; ')}`, { details: { problems } });
    this.problems = problems;
  }
}

/** A programmer error: a broken invariant, never a user's mistake. */
export class AssertionError extends Error {
  readonly code = 'ASSERTION_FAILED';

  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === 'string' ? message : message());
  }
}

export function assertNever(value: never, what: string): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

export function isMeshError(error: unknown, code?: string): error is MeshError {
  return error instanceof MeshError && (code === undefined || error.code === code);
}
