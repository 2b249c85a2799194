import { describe, expect, it } from 'vitest';
import { formatHistory, runSimulation } from '../../src/sim/index.js';

describe('simulation determinism', () => {
  it('gives a byte-identical trace and history for the same seed', () => {
    const first = runSimulation({ seed: 4242, steps: 8_000, traceLines: 1_000_000 });
    const second = runSimulation({ seed: 4242, steps: 8_000, traceLines: 1_000_000 });
    expect(first.traceDigest).toBe(second.traceDigest);
    expect(first.trace.text()).toBe(second.trace.text());
    expect(formatHistory(first.history)).toBe(formatHistory(second.history));
    expect(first.events).toBe(second.events);
    expect(first.faultCounts).toEqual(second.faultCounts);
  });

  it('gives different traces for different seeds', () => {
    const a = runSimulation({ seed: 1, steps: 2_000, traceLines: 0 });
    const b = runSimulation({ seed: 2, steps: 2_000, traceLines: 0 });
    expect(a.traceDigest).not.toBe(b.traceDigest);
  });

  it('keeps the digest independent of how many trace lines are kept', () => {
    const full = runSimulation({ seed: 99, steps: 3_000, traceLines: 1_000_000 });
    const none = runSimulation({ seed: 99, steps: 3_000, traceLines: 0 });
    expect(none.traceDigest).toBe(full.traceDigest);
  });
});
