import { describe, it } from 'vitest';
import { expectRealWork, runSeedRange } from './seed-range.js';

const SEEDS = 40;

describe(`simulation seeds 1..${SEEDS} with all faults`, () => {
  it('keeps every invariant, stays live after healing, and yields linearizable histories', async () => {
    expectRealWork(await runSeedRange(1, SEEDS), SEEDS);
  }, 120_000);
});
