import { runProductionSimulation } from '../src/sim/production/index.js';
import type { BenchSuite } from './harness.js';

/** Seeds per measured run and fault-phase events per seed. */
const SEEDS_PER_RUN = 3;
const STEPS_PER_SEED = 20_000;
const RUNS = 5;

/**
 * Speed of the simulator running the production node code (RaftNode, NodeStateMachine,
 * RaftKvBackend on memory disks): events per second of wall time over whole runs, the
 * microtask flush after every event included.
 */
export const suite: BenchSuite = {
  name: 'sim-production',
  async run(context) {
    let seed = 1;
    const faulty = await context.repeat(RUNS, async () => {
      let events = 0;
      const startedMs = performance.now();
      for (let index = 0; index < SEEDS_PER_RUN; index++) {
        const result = await runProductionSimulation({
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
      metric: 'production-node simulated events per second (faults on, 3-5 nodes, 4 clients)',
      median: faulty.median,
      p99: faulty.p99,
      unit: 'events/s',
      samples: RUNS,
    });
    const quiet = await context.repeat(RUNS, async () => {
      const startedMs = performance.now();
      const result = await runProductionSimulation({
        seed: seed++,
        steps: STEPS_PER_SEED,
        faults: [],
        traceLines: 0,
        checkLinearizability: false,
      });
      return result.events / ((performance.now() - startedMs) / 1000);
    });
    context.record({
      metric: 'production-node simulated events per second (no faults)',
      median: quiet.median,
      p99: quiet.p99,
      unit: 'events/s',
      samples: RUNS,
    });
    const seedsPerSecond = await context.repeat(RUNS, async () => {
      const startedMs = performance.now();
      await runProductionSimulation({ seed: seed++, steps: STEPS_PER_SEED, traceLines: 0 });
      return 1000 / (performance.now() - startedMs);
    });
    context.record({
      metric: `production-node seeds per second (${STEPS_PER_SEED} steps, all checks)`,
      median: seedsPerSecond.median,
      p99: seedsPerSecond.p99,
      unit: 'seeds/s',
      samples: RUNS,
    });
  },
};
