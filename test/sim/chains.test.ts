import { describe, expect, it } from 'vitest';
import { runSimulation, type SimulationResult } from '../../src/sim/index.js';
import { describeViolation } from './seed-range.js';

const SEEDS = 6;
const STEPS = 6_000;

/** Values the appenders (not the liveness probes) had acknowledged. */
function appendersAcknowledged(result: SimulationResult): number {
  return (result.chains?.history ?? []).filter(
    (operation) => operation.status === 'ok' && operation.client >= 0,
  ).length;
}

describe('simulation with chains (production chain host, disk logs, Raft KV control plane)', () => {
  it(`keeps the chain invariants on seeds 1..${SEEDS} with all faults, and every chain stays live`, async () => {
    let epochsBeyondFirst = 0;
    let compared = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = await runSimulation({ seed, steps: STEPS, chains: true, traceLines: 300 });
      expect(result.violation, describeViolation(result)).toBeUndefined();
      const chains = result.chains!;
      expect(chains.chains.length).toBeGreaterThan(1);
      // Real work under faults: appenders got acknowledgements, replicas' prefixes were compared.
      expect(appendersAcknowledged(result), `seed=${seed}`).toBeGreaterThan(0);
      expect(chains.committedOffsetsCompared, `seed=${seed}`).toBeGreaterThan(0);
      epochsBeyondFirst += chains.highestEpoch - 1;
      compared += chains.committedOffsetsCompared;
    }
    // Leaders were crashed or cut off and chains failed over to new epochs.
    expect(epochsBeyondFirst).toBeGreaterThan(SEEDS);
    expect(compared).toBeGreaterThan(SEEDS * 50);
  }, 120_000);

  it('replays a seed exactly: same trace digest, same chain history', async () => {
    const options = { seed: 7, steps: 3_000, chains: true, traceLines: 0 } as const;
    const first = await runSimulation(options);
    const second = await runSimulation(options);
    expect(first.violation).toBeUndefined();
    expect(second.traceDigest).toBe(first.traceDigest);
    expect(second.chains?.history).toEqual(first.chains?.history);
    expect(first.chains!.history.length).toBeGreaterThan(0);
  }, 60_000);
});
