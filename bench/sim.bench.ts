import { runSimulation, type SimulationOptions } from '../src/sim/index.js';
import type { BenchSuite } from './harness.js';

/** Seeds per measured run and fault-phase events per seed. */
const SEEDS_PER_RUN = 3;
const STEPS_PER_SEED = 20_000;
const RUNS = 5;
/** Seeds measured with chains (one seed per run). */
const CHAIN_RUNS = 3;

/** Events per second of wall time of one whole run (no linearizability check, no trace). */
async function eventsPerSecond(options: SimulationOptions): Promise<number> {
  const startedMs = performance.now();
  const result = await runSimulation({ ...options, traceLines: 0, checkLinearizability: false });
  return result.events / ((performance.now() - startedMs) / 1000);
}

/**
 * Speed of the simulator (`npm run sim`), which runs the production node code (RaftNode,
 * NodeStateMachine, RaftKvBackend, the log store on memory disks): events per second of wall
 * time over whole runs (fault phase, healed phase, invariant checks; the linearizability
 * check is measured in the seeds-per-second figure).
 */
export const suite: BenchSuite = {
  name: 'sim',
  async run(context) {
    let seed = 1;
    const faulty = await context.repeat(RUNS, async () => {
      let events = 0;
      const startedMs = performance.now();
      for (let index = 0; index < SEEDS_PER_RUN; index++) {
        const result = await runSimulation({
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
      metric: 'simulated events per second (all faults, 3-5 nodes, 4 clients)',
      median: faulty.median,
      p99: faulty.p99,
      unit: 'events/s',
      samples: RUNS,
      target: '>= 100000',
    });
    const quiet = await context.repeat(RUNS, () =>
      eventsPerSecond({ seed: seed++, steps: STEPS_PER_SEED, faults: [] }),
    );
    context.record({
      metric: 'simulated events per second (no faults)',
      median: quiet.median,
      p99: quiet.p99,
      unit: 'events/s',
      samples: RUNS,
    });
    const chainEvents = await context.repeat(CHAIN_RUNS, () =>
      eventsPerSecond({ seed: seed++, steps: STEPS_PER_SEED, chains: true }),
    );
    context.record({
      metric: 'simulated events per second with chains (all faults, 3 chains, 6 appenders, chain checks)',
      median: chainEvents.median,
      p99: chainEvents.p99,
      unit: 'events/s',
      samples: CHAIN_RUNS,
    });
    const seedsPerSecond = await context.repeat(RUNS, async () => {
      const startedMs = performance.now();
      await runSimulation({ seed: seed++, steps: STEPS_PER_SEED, traceLines: 0 });
      return 1000 / (performance.now() - startedMs);
    });
    context.record({
      metric: `seeds per second (${STEPS_PER_SEED} steps, all checks)`,
      median: seedsPerSecond.median,
      p99: seedsPerSecond.p99,
      unit: 'seeds/s',
      samples: RUNS,
    });
  },
};
