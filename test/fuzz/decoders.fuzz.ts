/**
 * `npm run fuzz`: every decoder of bytes from outside the process or from disk, with each
 * target's full input count (over a million in all). The seed is random unless FUZZ_SEED is set;
 * FUZZ_SCALE multiplies every target's input count.
 */
import { allTargets } from './all-targets.js';
import { describeTargets } from './support/describe-targets.js';

const scale = Number(process.env.FUZZ_SCALE ?? '1');
if (!(scale > 0)) throw new Error(`FUZZ_SCALE ${process.env.FUZZ_SCALE} is not a positive number`);

describeTargets(allTargets, {
  title: 'fuzzed decoders',
  scale,
  minimumRuns: 100,
  defaultSeed: Date.now() % 2 ** 31,
  timeoutMs: 30 * 60_000,
});
