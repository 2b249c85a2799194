import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/index.js';

/** The broken rule must be caught within this many seeds (it usually is within a handful). */
const MAX_SEEDS_TO_CATCH_BROKEN_COMMIT = 40;
const STEPS = 20_000;

describe('simulation catches the figure-8 commit bug in the production node', () => {
  it('reports a safety violation when leaders commit older-term entries by counting replicas', async () => {
    // Entries travel one per append: with batched appends a follower acknowledges the new
    // leader's own entry together with the older ones, which hides the broken rule.
    const shape = { steps: STEPS, nodeCount: 5, maxAppendBytes: 1, traceLines: 0 };
    let caught: { seed: number; invariant: string; message: string } | undefined;
    for (let seed = 1; seed <= MAX_SEEDS_TO_CATCH_BROKEN_COMMIT && caught === undefined; seed++) {
      const result = await runSimulation({
        seed,
        ...shape,
        unsafeCommitByCountingOlderTerms: true,
        checkLinearizability: false,
      });
      if (result.violation !== undefined) caught = { seed, ...result.violation };
    }
    expect(caught, 'no violation found with the broken commit rule').toBeDefined();
    expect(['state-machine-safety', 'leader-completeness', 'log-matching']).toContain(caught!.invariant);
    expect(caught!.message).toMatch(/node=\d+ term=\d+ index=\d+/);
    // The same seed with the correct rule keeps every invariant.
    const correct = await runSimulation({ seed: caught!.seed, ...shape });
    expect(correct.violation).toBeUndefined();
  }, 120_000);
});
