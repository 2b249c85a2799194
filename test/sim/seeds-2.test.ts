import { describe, it } from 'vitest';
import { expectRealWork, runSeedRange } from './seed-range.js';

const FIRST = 41;
const SEEDS = 40;

describe(`simulation seeds ${FIRST}..${FIRST + SEEDS - 1} with all faults`, () => {
  it('keeps every invariant, stays live after healing, and yields linearizable histories', async () => {
    expectRealWork(await runSeedRange(FIRST, SEEDS), SEEDS);
  }, 120_000);
});
