import { describe, expect, it } from 'vitest';
import { formatHistory, runSimulation } from '../../src/sim/index.js';

const SEED = 4242;
const STEPS = 12_000;

describe('simulation determinism', () => {
  it('gives the same trace, history and fault counts for the same seed', async () => {
    const options = { seed: SEED, steps: STEPS, traceLines: 1_000_000, requestReplayProbability: 0.03 };
    const first = await runSimulation(options);
    const second = await runSimulation(options);
    expect(first.violation, `seed=${SEED}`).toBeUndefined();
    expect(second.traceDigest, `seed=${SEED}`).toBe(first.traceDigest);
    expect(second.trace.text()).toBe(first.trace.text());
    expect(formatHistory(second.history)).toBe(formatHistory(first.history));
    expect(second.events).toBe(first.events);
    expect(second.faultCounts).toEqual(first.faultCounts);
    expect(second.commits).toBe(first.commits);
  });

  it('gives different traces for different seeds', async () => {
    const a = await runSimulation({ seed: 1, steps: 2_000, traceLines: 0 });
    const b = await runSimulation({ seed: 2, steps: 2_000, traceLines: 0 });
    expect(a.traceDigest).not.toBe(b.traceDigest);
  });

  it('keeps the digest independent of how many trace lines are kept', async () => {
    const full = await runSimulation({ seed: 99, steps: 3_000, traceLines: 1_000_000 });
    const none = await runSimulation({ seed: 99, steps: 3_000, traceLines: 0 });
    expect(none.traceDigest).toBe(full.traceDigest);
  });
});
