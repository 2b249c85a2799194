import { describe, expect, it } from 'vitest';
import { type ProductionSimulationResult, runProductionSimulation } from '../../src/sim/production/index.js';

/** Fault-phase events per seed: several crashes, partitions and snapshot installs each. */
const STEPS_PER_SEED = 15_000;
const SEEDS_PER_TEST = 16;
/** Share of client writes delivered a second time, late (exercises stale session requests). */
const REPLAY_PROBABILITY = 0.03;

function describeFailure(result: ProductionSimulationResult): string {
  const violation = result.violation;
  if (violation === undefined) return '';
  return `seed=${result.seed} ${violation.invariant} at ${violation.atUs} us: ${violation.message}\n${result.trace.text()}`;
}

interface RangeSummary {
  readonly failures: string[];
  readonly commits: number;
  readonly crashes: number;
  readonly partitions: number;
  readonly operations: number;
  readonly checkpoints: number;
  readonly staleRefused: number;
  readonly operatorActions: number;
}

async function runSeeds(first: number, count: number, replayProbability: number): Promise<RangeSummary> {
  const failures: string[] = [];
  let commits = 0;
  let crashes = 0;
  let partitions = 0;
  let operations = 0;
  let checkpoints = 0;
  let staleRefused = 0;
  let operatorActions = 0;
  for (let seed = first; seed < first + count; seed++) {
    const result = await runProductionSimulation({
      seed,
      steps: STEPS_PER_SEED,
      traceLines: 200,
      requestReplayProbability: replayProbability,
    });
    if (result.violation !== undefined) failures.push(describeFailure(result));
    else if (result.linearizability?.verdict !== 'linearizable')
      failures.push(`seed=${seed} history verdict ${result.linearizability?.verdict}`);
    else if (result.replicas?.comparedPairs !== result.nodeCount - 1)
      failures.push(`seed=${seed} compared ${result.replicas?.comparedPairs} replica pairs`);
    commits += result.commits;
    crashes += result.crashes;
    partitions += result.faultCounts.partition + result.faultCounts['asymmetric-partition'];
    operations += result.history.length;
    checkpoints += result.checkpointsCompared;
    staleRefused += result.staleRequestsRefused;
    operatorActions += result.gracefulStops + result.leadershipTransfers;
  }
  return { failures, commits, crashes, partitions, operations, checkpoints, staleRefused, operatorActions };
}

function expectRealWork(summary: RangeSummary): void {
  expect(summary.failures).toEqual([]);
  // The runs did real work under real faults, not a quiet cluster.
  expect(summary.commits).toBeGreaterThan(SEEDS_PER_TEST * 50);
  expect(summary.crashes).toBeGreaterThan(SEEDS_PER_TEST);
  expect(summary.partitions).toBeGreaterThan(0);
  expect(summary.operations).toBeGreaterThan(SEEDS_PER_TEST * 100);
  expect(summary.checkpoints).toBeGreaterThan(SEEDS_PER_TEST * 10);
  expect(summary.operatorActions).toBeGreaterThan(0);
}

describe('production node code under simulated faults', () => {
  it(`keeps safety, linearizability and identical replicas on seeds 1..${SEEDS_PER_TEST}`, async () => {
    const summary = await runSeeds(1, SEEDS_PER_TEST, 0);
    expectRealWork(summary);
  }, 120_000);

  it(`survives replayed client writes on seeds 1001..${1000 + SEEDS_PER_TEST}`, async () => {
    const summary = await runSeeds(1001, SEEDS_PER_TEST, REPLAY_PROBABILITY);
    expectRealWork(summary);
    // Replays reached a node after a newer request of their client and were refused with
    // STALE_REQUEST, the node going on serving.
    expect(summary.staleRefused).toBeGreaterThan(0);
  }, 120_000);
});
