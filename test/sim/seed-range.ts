import { runSimulation, type SimulationResult } from '../../src/sim/index.js';

/** Fault-phase events per seed in `npm test`: enough for several elections, crashes and partitions each. */
export const TEST_STEPS_PER_SEED = 12_000;

export interface RangeSummary {
  readonly failures: string[];
  readonly commits: number;
  readonly events: number;
  readonly operations: number;
  readonly unknownVerdicts: number;
  readonly faultsInjected: number;
}

/** Runs seeds [first, first + count) with every fault knob on and summarises them. */
export function runSeedRange(first: number, count: number): RangeSummary {
  const failures: string[] = [];
  let commits = 0;
  let events = 0;
  let operations = 0;
  let unknownVerdicts = 0;
  let faultsInjected = 0;
  for (let seed = first; seed < first + count; seed++) {
    const result: SimulationResult = runSimulation({ seed, steps: TEST_STEPS_PER_SEED, traceLines: 0 });
    if (result.violation !== undefined) failures.push(`seed=${seed} ${result.violation.message}`);
    commits += result.commits;
    events += result.events;
    operations += result.history.length;
    if (result.linearizability?.verdict === 'unknown') unknownVerdicts++;
    for (const count of Object.values(result.faultCounts)) faultsInjected += count;
  }
  return { failures, commits, events, operations, unknownVerdicts, faultsInjected };
}
