import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/index.js';

/** The broken rule must be caught within this many seeds (it is usually caught within a handful). */
const MAX_SEEDS_TO_CATCH_BROKEN_COMMIT = 40;

describe('simulation catches the figure-8 commit bug', () => {
  it('reports a safety violation when leaders commit older-term entries by counting replicas', () => {
    let caught: { seed: number; invariant: string; message: string } | undefined;
    for (let seed = 1; seed <= MAX_SEEDS_TO_CATCH_BROKEN_COMMIT && caught === undefined; seed++) {
      const result = runSimulation({
        seed,
        steps: 20_000,
        nodeCount: 5,
        unsafeCommitByCountingOlderTerms: true,
        traceLines: 0,
        checkLinearizability: false,
      });
      if (result.violation !== undefined) caught = { seed, ...result.violation };
    }
    expect(caught, 'no violation found with the broken commit rule').toBeDefined();
    expect(['state-machine-safety', 'leader-completeness']).toContain(caught!.invariant);
    expect(caught!.message).toMatch(/node=\d+ term=\d+ index=\d+/);
    // The same seed with the correct rule keeps every invariant.
    const correct = runSimulation({ seed: caught!.seed, steps: 20_000, nodeCount: 5, traceLines: 0 });
    expect(correct.violation).toBeUndefined();
  }, 120_000);
});
