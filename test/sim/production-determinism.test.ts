import { describe, expect, it } from 'vitest';
import { formatHistory } from '../../src/sim/index.js';
import { runProductionSimulation } from '../../src/sim/production/index.js';

const SEED = 4242;
const STEPS = 12_000;

describe('production simulation determinism', () => {
  it('gives the same trace, history and fault counts for the same seed', async () => {
    const first = await runProductionSimulation({
      seed: SEED,
      steps: STEPS,
      traceLines: 1_000_000,
      requestReplayProbability: 0.03,
    });
    const second = await runProductionSimulation({
      seed: SEED,
      steps: STEPS,
      traceLines: 1_000_000,
      requestReplayProbability: 0.03,
    });
    expect(first.violation, `seed=${SEED}`).toBeUndefined();
    expect(second.traceDigest, `seed=${SEED}`).toBe(first.traceDigest);
    expect(second.trace.text()).toBe(first.trace.text());
    expect(formatHistory(second.history)).toBe(formatHistory(first.history));
    expect(second.events).toBe(first.events);
    expect(second.faultCounts).toEqual(first.faultCounts);
    expect(second.commits).toBe(first.commits);
  });

  it('gives different traces for different seeds', async () => {
    const a = await runProductionSimulation({ seed: 1, steps: 2_000, traceLines: 0 });
    const b = await runProductionSimulation({ seed: 2, steps: 2_000, traceLines: 0 });
    expect(a.traceDigest).not.toBe(b.traceDigest);
  });
});
