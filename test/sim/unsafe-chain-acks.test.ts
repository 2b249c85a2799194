import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/index.js';

/** The broken acknowledgement must be caught within this many seeds (a few, usually). */
const MAX_SEEDS_TO_CATCH = 16;
const STEPS = 8_000;
const CHAIN_INVARIANTS = [
  'chain-committed-prefix',
  'chain-acknowledged-appends',
  'chain-one-leader-per-epoch',
];

describe('simulation catches chain replicas that acknowledge before their acks policy is met', () => {
  it('reports lost acknowledged appends or diverging committed prefixes', async () => {
    let caught: { seed: number; invariant: string; message: string } | undefined;
    for (let seed = 1; seed <= MAX_SEEDS_TO_CATCH && caught === undefined; seed++) {
      const result = await runSimulation({
        seed,
        steps: STEPS,
        chains: true,
        unsafeChainAcks: true,
        traceLines: 0,
      });
      if (result.violation !== undefined) caught = { seed, ...result.violation };
    }
    expect(caught, 'no violation found with replicas acknowledging alone').toBeDefined();
    expect(CHAIN_INVARIANTS).toContain(caught!.invariant);
    expect(caught!.message).toMatch(/chain-\d/);
    // The same seed with the real acks policy keeps every invariant.
    const correct = await runSimulation({ seed: caught!.seed, steps: STEPS, chains: true, traceLines: 0 });
    expect(correct.violation).toBeUndefined();
  }, 120_000);
});
