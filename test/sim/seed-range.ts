import { expect } from 'vitest';
import { runSimulation, type SimulationOptions, type SimulationResult } from '../../src/sim/index.js';

/** Fault-phase events per seed in `npm test`: several elections, crashes and partitions each. */
export const TEST_STEPS_PER_SEED = 6_000;

export interface RangeSummary {
  readonly failures: string[];
  readonly events: number;
  readonly commits: number;
  readonly crashes: number;
  readonly partitions: number;
  readonly operations: number;
  readonly checkpoints: number;
  readonly durableLogsRead: number;
  readonly staleRefused: number;
  readonly operatorActions: number;
  readonly faultsInjected: number;
}

/** The run's violation with its seed and trace; empty when every invariant held. */
export function describeViolation(result: SimulationResult): string {
  const violation = result.violation;
  return violation === undefined
    ? ''
    : `seed=${result.seed} ${violation.invariant} at ${violation.atUs} us: ${violation.message}\n${result.trace.text()}`;
}

function describeFailure(result: SimulationResult): string {
  const violation = describeViolation(result);
  if (violation !== '') return violation;
  if (result.linearizability?.verdict !== 'linearizable')
    return `seed=${result.seed} history verdict ${result.linearizability?.verdict}`;
  if (result.replicas?.comparedPairs !== result.nodeCount - 1)
    return `seed=${result.seed} compared ${result.replicas?.comparedPairs} replica pairs`;
  return '';
}

/**
 * Runs seeds [first, first + count) with every fault knob on (plus `extra` options) and
 * sums what they did; a seed fails on a violation, a history not proven linearizable, or
 * replicas not all compared.
 */
export async function runSeedRange(
  first: number,
  count: number,
  extra: Partial<SimulationOptions> = {},
): Promise<RangeSummary> {
  const failures: string[] = [];
  let events = 0;
  let commits = 0;
  let crashes = 0;
  let partitions = 0;
  let operations = 0;
  let checkpoints = 0;
  let durableLogsRead = 0;
  let staleRefused = 0;
  let operatorActions = 0;
  let faultsInjected = 0;
  for (let seed = first; seed < first + count; seed++) {
    const result = await runSimulation({ seed, steps: TEST_STEPS_PER_SEED, traceLines: 200, ...extra });
    const failure = describeFailure(result);
    if (failure !== '') failures.push(failure);
    events += result.events;
    commits += result.commits;
    crashes += result.crashes;
    partitions += result.faultCounts.partition + result.faultCounts['asymmetric-partition'];
    operations += result.history.length;
    checkpoints += result.checkpointsCompared;
    durableLogsRead += result.durableLogsRead;
    staleRefused += result.staleRequestsRefused;
    operatorActions += result.gracefulStops + result.leadershipTransfers;
    for (const injected of Object.values(result.faultCounts)) faultsInjected += injected;
  }
  return {
    failures,
    events,
    commits,
    crashes,
    partitions,
    operations,
    checkpoints,
    durableLogsRead,
    staleRefused,
    operatorActions,
    faultsInjected,
  };
}

/** The runs did real work under real faults, not a quiet cluster. */
export function expectRealWork(summary: RangeSummary, seeds: number): void {
  expect(summary.failures).toEqual([]);
  expect(summary.events).toBeGreaterThanOrEqual(seeds * TEST_STEPS_PER_SEED);
  expect(summary.commits).toBeGreaterThan(seeds * 10);
  expect(summary.crashes).toBeGreaterThan(seeds);
  expect(summary.partitions).toBeGreaterThan(seeds);
  expect(summary.operations).toBeGreaterThan(seeds * 50);
  expect(summary.checkpoints).toBeGreaterThan(0);
  expect(summary.operatorActions).toBeGreaterThan(0);
  expect(summary.durableLogsRead).toBeGreaterThan(seeds * 3);
}
