import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/index.js';

/** Stale reads must be caught within this many seeds (they usually are within a few). */
const MAX_SEEDS_TO_CATCH_STALE_READS = 20;
const STEPS = 6_000;

describe('simulation catches stale reads through the linearizability checker', () => {
  it('reports a non-linearizable history when reads are serializable (local state, no ReadIndex)', async () => {
    let caught: { seed: number; invariant: string; message: string } | undefined;
    for (let seed = 1; seed <= MAX_SEEDS_TO_CATCH_STALE_READS && caught === undefined; seed++) {
      const result = await runSimulation({ seed, steps: STEPS, unsafeLocalReads: true, traceLines: 0 });
      if (result.violation !== undefined) caught = { seed, ...result.violation };
    }
    expect(caught, 'no violation found with reads that skip ReadIndex').toBeDefined();
    expect(caught!.invariant).toBe('linearizability');
    expect(caught!.message).toContain('get ->');
    const correct = await runSimulation({ seed: caught!.seed, steps: STEPS, traceLines: 0 });
    expect(correct.violation).toBeUndefined();
    expect(correct.linearizability?.verdict).toBe('linearizable');
  }, 120_000);
});
