/**
 * The sample of `npm run fuzz` that runs inside `npm test`: every fuzzed decoder with a few
 * hundred inputs from a fixed seed (FUZZ_SEED overrides it), so a decoder that starts to crash on
 * damaged bytes fails the suite. The long run is test/fuzz/decoders.fuzz.ts.
 */
import { allTargets } from './all-targets.js';
import { describeTargets } from './support/describe-targets.js';

describeTargets(allTargets, {
  title: 'fuzzed decoders (sample)',
  scale: 0.004,
  minimumRuns: 50,
  defaultSeed: 19,
  timeoutMs: 60_000,
});
