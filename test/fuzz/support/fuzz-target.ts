/**
 * A fuzzed decoder: the inputs fast-check draws for it and the check run on each. A check
 * passes when the decoder returns or throws a typed error (a `MeshError` with its code, or one of
 * the few other error classes the target names); any other throw (TypeError, RangeError, an
 * AssertionError, a failed `expect`) fails the run, and fast-check shrinks the input and reports
 * it with the seed that reproduces it.
 */
import fc from 'fast-check';
import { MeshError } from '../../../src/lib/index.js';

// biome-ignore lint/suspicious/noExplicitAny: error classes of any constructor shape
type ErrorClass = abstract new (...args: any[]) => Error;

export interface FuzzTarget<Input = Uint8Array> {
  /** What is decoded, as the report names it. */
  readonly name: string;
  /** Inputs this target gets in `npm run fuzz` (the test sample runs a fraction). */
  readonly fuzzRuns: number;
  readonly inputs: fc.Arbitrary<Input>;
  /** Decodes one input; throws only typed errors. */
  readonly check: (input: Input) => void | Promise<void>;
  /** The check returns a promise (file recovery paths). */
  readonly isAsync?: boolean;
  /** Typed errors besides `MeshError` that this decoder's callers handle by class. */
  readonly typedErrors?: readonly ErrorClass[];
}

/** Builds a target; keeps `Input` inferred from the arbitrary. */
export function fuzzTarget<Input>(target: FuzzTarget<Input>): FuzzTarget<Input> {
  return target;
}

export class UntypedDecoderError extends Error {
  constructor(target: string, cause: unknown) {
    const described = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`${target}: the decoder threw an untyped error (${described})`, { cause });
    this.name = 'UntypedDecoderError';
  }
}

function isTyped(error: unknown, extra: readonly ErrorClass[]): boolean {
  return error instanceof MeshError || extra.some((errorClass) => error instanceof errorClass);
}

/** Runs `check`, letting only typed errors through as a pass. */
async function checkOne<Input>(target: FuzzTarget<Input>, input: Input): Promise<void> {
  try {
    await target.check(input);
  } catch (error) {
    if (!isTyped(error, target.typedErrors ?? [])) throw new UntypedDecoderError(target.name, error);
  }
}

function checkOneSync<Input>(target: FuzzTarget<Input>, input: Input): void {
  try {
    const outcome = target.check(input);
    if (outcome instanceof Promise) throw new Error(`${target.name}: an async check run as a sync one`);
  } catch (error) {
    if (!isTyped(error, target.typedErrors ?? [])) throw new UntypedDecoderError(target.name, error);
  }
}

export interface TargetOutcome {
  readonly name: string;
  readonly runs: number;
  readonly elapsedMs: number;
}

/**
 * Runs `runs` inputs through the target from `seed`. On a failure fast-check throws with the
 * shrunk counterexample, the seed and the path that replays it (`fc.assert`'s report).
 */
export async function runTarget<Input>(
  target: FuzzTarget<Input>,
  runs: number,
  seed: number,
): Promise<TargetOutcome> {
  const started = performance.now();
  const parameters = { numRuns: runs, seed, endOnFailure: false };
  if (target.isAsync === true) {
    await fc.assert(
      fc.asyncProperty(target.inputs, (input) => checkOne(target, input)),
      parameters,
    );
  } else {
    fc.assert(
      fc.property(target.inputs, (input) => checkOneSync(target, input)),
      parameters,
    );
  }
  return { name: target.name, runs, elapsedMs: performance.now() - started };
}
