/**
 * One vitest case per fuzz target, shared by the sample in `npm test` and the long `npm run fuzz`.
 * The seed comes from FUZZ_SEED when set (to replay a reported failure), else the caller's
 * default; it is printed first, and a failing target's report carries it with the shrunk input.
 */
import { afterAll, describe, it } from 'vitest';
import { type FuzzTarget, runTarget, type TargetOutcome } from './fuzz-target.js';

export interface FuzzRunOptions {
  readonly title: string;
  /** Fraction of each target's `fuzzRuns` to run. */
  readonly scale: number;
  /** Fewest inputs any target gets. */
  readonly minimumRuns: number;
  readonly defaultSeed: number;
  /** Per target, ms: a target is bounded by its input count, this only catches a hang. */
  readonly timeoutMs: number;
}

export function seedFrom(environment: string | undefined, fallback: number): number {
  if (environment === undefined || environment === '') return fallback;
  const seed = Number(environment);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED ${environment} is not an integer`);
  return seed | 0;
}

export function describeTargets(
  // biome-ignore lint/suspicious/noExplicitAny: targets of every input type
  targets: readonly FuzzTarget<any>[],
  options: FuzzRunOptions,
): void {
  const seed = seedFrom(process.env.FUZZ_SEED, options.defaultSeed);
  const outcomes: TargetOutcome[] = [];
  describe(options.title, () => {
    afterAll(() => {
      const inputs = outcomes.reduce((sum, outcome) => sum + outcome.runs, 0);
      const elapsedMs = outcomes.reduce((sum, outcome) => sum + outcome.elapsedMs, 0);
      const lines = outcomes.map(
        (outcome) =>
          `  ${outcome.name.padEnd(52)} ${String(outcome.runs).padStart(9)} inputs ${(outcome.elapsedMs / 1000).toFixed(1).padStart(7)} s`,
      );
      console.log(
        [
          `fuzz seed=${seed}: ${inputs} inputs over ${outcomes.length} decoders in ${(elapsedMs / 1000).toFixed(1)} s`,
          ...lines,
        ].join('\n'),
      );
    });
    for (const target of targets) {
      const runs = Math.max(options.minimumRuns, Math.round(target.fuzzRuns * options.scale));
      it(
        `${target.name}: ${runs} inputs, typed errors only (seed ${seed})`,
        async () => {
          outcomes.push(await runTarget(target, runs, seed));
        },
        options.timeoutMs,
      );
    }
  });
}
