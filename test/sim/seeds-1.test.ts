import { describe, expect, it } from 'vitest';
import { runSeedRange, TEST_STEPS_PER_SEED } from './seed-range.js';

describe('simulation seeds 1..50 with all faults', () => {
  it('keeps every invariant, stays live after healing, and yields linearizable histories', () => {
    const summary = runSeedRange(1, 50);
    expect(summary.failures).toEqual([]);
    // The runs did real work under real faults: entries committed, clients answered.
    expect(summary.events).toBeGreaterThanOrEqual(50 * TEST_STEPS_PER_SEED);
    expect(summary.commits).toBeGreaterThan(50 * 20);
    expect(summary.operations).toBeGreaterThan(50 * 20);
    expect(summary.faultsInjected).toBeGreaterThan(50 * 10);
  }, 120_000);
});
