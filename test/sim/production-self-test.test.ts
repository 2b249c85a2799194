import { describe, expect, it } from 'vitest';
import { runProductionSimulation } from '../../src/sim/production/index.js';

const SEEDS = 6;
const SAFETY_INVARIANTS = [
  'election-safety',
  'state-machine-safety',
  'linearizability',
  'deterministic-apply',
];

describe('the production simulation catches a broken node', () => {
  it('reports a disk that acknowledges fsyncs without making writes durable', async () => {
    const violations: string[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = await runProductionSimulation({
        seed,
        steps: 20_000,
        traceLines: 0,
        unsafeDiskIgnoresSyncs: true,
      });
      if (result.violation !== undefined) violations.push(result.violation.invariant);
    }
    // A lying disk only bites when a crash lands after an acknowledged but unsynced write.
    expect(violations.length, `only ${violations.length} of ${SEEDS} seeds noticed`).toBeGreaterThanOrEqual(
      SEEDS / 2,
    );
    // Beyond refusing to start from a damaged disk, lost votes and entries break Raft safety.
    expect(violations.some((invariant) => SAFETY_INVARIANTS.includes(invariant))).toBe(true);
  }, 60_000);
});
