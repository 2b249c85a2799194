/**
 * The sample of `npm run fuzz`'s connection garbage in `npm test`: a few hundred connections from
 * a fixed seed (FUZZ_SEED overrides it). The long run is test/fuzz/connection-garbage.fuzz.ts.
 */
import { describeConnectionGarbage } from './support/connection-garbage.js';

describeConnectionGarbage({
  title: 'garbage connections (sample)',
  connections: 300,
  defaultSeed: 19,
  timeoutMs: 120_000,
});
