import { describe, expect, it } from 'vitest';
import { compareReplicas, runSimulation } from '../../src/sim/index.js';

describe('replica byte identity', () => {
  it('finds every live replica byte-identical after a faulty run, checkpoints included', async () => {
    for (const seed of [77, 78]) {
      const result = await runSimulation({ seed, steps: 15_000, traceLines: 200 });
      expect(result.violation, `seed=${seed} ${result.violation?.message}`).toBeUndefined();
      expect(result.replicas?.mismatch, `seed=${seed}`).toBeUndefined();
      // Healed: every node is up and at one applied index, so every pair was compared.
      expect(result.replicas?.comparedPairs, `seed=${seed}`).toBe(result.nodeCount - 1);
      expect(result.checkpointsCompared, `seed=${seed}`).toBeGreaterThan(0);
    }
  });

  it('reports replicas at the same index whose bytes differ', () => {
    const same = new Uint8Array([1, 2, 3]);
    const comparison = compareReplicas([
      { node: 1, appliedIndex: 9, snapshot: same },
      { node: 2, appliedIndex: 9, snapshot: new Uint8Array([1, 2, 3]) },
      { node: 3, appliedIndex: 9, snapshot: new Uint8Array([1, 7, 3]) },
    ]);
    expect(comparison.mismatch).toContain('nodes 1 and 3');
    expect(comparison.mismatch).toContain('first difference at byte 1');
  });

  it('does not compare replicas that applied different prefixes', () => {
    const comparison = compareReplicas([
      { node: 1, appliedIndex: 9, snapshot: new Uint8Array([1]) },
      { node: 2, appliedIndex: 10, snapshot: new Uint8Array([2]) },
    ]);
    expect(comparison).toEqual({ comparedPairs: 0, mismatch: undefined });
  });
});
