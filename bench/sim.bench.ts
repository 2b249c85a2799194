import { runSimulation } from '../src/sim/index.js';
import type { BenchSuite } from './harness.js';

/** Seeds per measured run and fault-phase events per seed. */
const SEEDS_PER_RUN = 4;
const STEPS_PER_SEED = 20_000;
const RUNS = 5;

/**
 * Simulator speed: events per second of wall time across whole runs (fault phase, liveness
 * phase and invariant checks included; the linearizability check is measured separately).
 */
export const suite: BenchSuite = {
  name: 'sim',
  async run(context) {
    let seed = 1;
    const eventsPerSecond = await context.repeat(RUNS, () => {
      let events = 0;
      const startedMs = performance.now();
      for (let index = 0; index < SEEDS_PER_RUN; index++) {
        const result = runSimulation({
          seed: seed++,
          steps: STEPS_PER_SEED,
          traceLines: 0,
          checkLinearizability: false,
        });
        events += result.events;
      }
      return events / ((performance.now() - startedMs) / 1000);
    });
    context.record({
      metric: 'simulated events per second (all faults, 3-5 nodes, 5 clients)',
      median: eventsPerSecond.median,
      p99: eventsPerSecond.p99,
      unit: 'events/s',
      samples: RUNS,
      target: '>= 500000',
    });
    const quiet = await context.repeat(RUNS, () => {
      const startedMs = performance.now();
      const result = runSimulation({
        seed: seed++,
        steps: STEPS_PER_SEED,
        faults: [],
        traceLines: 0,
        checkLinearizability: false,
      });
      return result.events / ((performance.now() - startedMs) / 1000);
    });
    context.record({
      metric: 'simulated events per second (no faults)',
      median: quiet.median,
      p99: quiet.p99,
      unit: 'events/s',
      samples: RUNS,
    });
    const seedsPerSecond = await context.repeat(RUNS, () => {
      const startedMs = performance.now();
      runSimulation({ seed: seed++, steps: STEPS_PER_SEED, traceLines: 0 });
      return 1000 / (performance.now() - startedMs);
    });
    context.record({
      metric: `seeds per second (${STEPS_PER_SEED} steps, linearizability checked)`,
      median: seedsPerSecond.median,
      p99: seedsPerSecond.p99,
      unit: 'seeds/s',
      samples: RUNS,
    });
  },
};
