import * as os from 'node:os';
import type { BenchCluster } from '../cluster/bench-cluster.js';
import { cpuTimeMs, sleep } from '../cluster/processes.js';
import { percentile } from '../harness.js';
import type { ControlBenchSettings } from './control-settings.js';
import { WorkerFleet } from './worker-fleet.js';

/** What one system did under the simulated fleet during the measured phase. */
export interface ControlRunFigures {
  readonly system: string;
  readonly workers: number;
  readonly windowSeconds: number;
  /** CPU each member used per second of the window (ms/s), in member order. */
  readonly memberCpuMsPerSecond: readonly number[];
  /** The bench process's own CPU per second (the simulated workers), for context. */
  readonly fleetCpuMsPerSecond: number;
  readonly keepAlives: number;
  readonly keepAliveP50Ms: number;
  readonly keepAliveP99Ms: number;
  /** Revokes: ms from sending the revoke until every other watcher saw the delete. */
  readonly revokeLeaveMs: readonly number[];
  /** One expiry: ms from the TTL running out until every other watcher saw the delete. */
  readonly expiryLeaveMs: number | undefined;
  readonly errors: number;
  readonly errorSummary: string;
  readonly loadAverage: readonly [number, number];
}

const CLUSTER_TIMEOUT_MS = 60_000;
/** Control planes (clients, each with its own gRPC connections) the workers share. */
const CONTROL_PLANES = 6;
/** Node ids of simulated workers start here, clear of the voters' 1..3. */
const FIRST_WORKER_NODE_ID = 1_001;
/** Leaves by revoke, spread over the window. */
const REVOKE_LEAVES = 5;

/**
 * Starts `cluster`, starts the fleet on it (each worker renewing from its registration on),
 * waits one TTL,
 * then measures for `settings.durationSeconds`: members' CPU from /proc, every keep-alive's
 * round trip, one worker's lease left to expire at the window's start, and REVOKE_LEAVES
 * workers revoking their leases at even intervals. Stops everything before answering.
 */
export async function runControlPlaneLoad(
  cluster: BenchCluster,
  settings: ControlBenchSettings,
): Promise<ControlRunFigures> {
  let fleet: WorkerFleet | undefined;
  try {
    await cluster.start(CLUSTER_TIMEOUT_MS);
    const setupStartedMs = Date.now();
    fleet = await WorkerFleet.start({
      endpoints: cluster.endpoints,
      workers: settings.workers,
      planes: CONTROL_PLANES,
      ttlSeconds: settings.ttlSeconds,
      firstNodeId: FIRST_WORKER_NODE_ID,
    });
    console.log(
      `  ${cluster.system}: ${fleet.size} workers registered and watching in ${((Date.now() - setupStartedMs) / 1000).toFixed(1)} s`,
    );
    await sleep(settings.ttlSeconds * 1000);

    const pids = cluster.endpoints.map((_, index) => {
      const pid = cluster.pid(index);
      if (pid === undefined) throw new Error(`${cluster.system} member ${index} has no pid`);
      return pid;
    });
    const loadAtStart = os.loadavg()[0]!;
    const samplesBefore = fleet.keepAliveSamples().kept.length;
    const cpuBefore = await Promise.all(pids.map(cpuTimeMs));
    const fleetCpuBefore = process.cpuUsage();
    const startedMs = performance.now();

    const expiry = fleet.expire(0).catch((error: unknown) => {
      fleet?.errors.add('expiry leave', error);
      return undefined;
    });
    const revokeLeaveMs: number[] = [];
    const revokes = Math.min(REVOKE_LEAVES, fleet.size - 1);
    const windowMs = settings.durationSeconds * 1000;
    for (let leave = 1; leave <= revokes; leave++) {
      await sleep(startedMs + (leave * windowMs) / (revokes + 1) - performance.now());
      try {
        revokeLeaveMs.push(await fleet.revoke(leave));
      } catch (error) {
        fleet.errors.add('revoke leave', error);
      }
    }
    await sleep(startedMs + windowMs - performance.now());

    const windowSeconds = (performance.now() - startedMs) / 1000;
    const cpuAfter = await Promise.all(pids.map(cpuTimeMs));
    const fleetCpu = process.cpuUsage(fleetCpuBefore);
    const loadAtEnd = os.loadavg()[0]!;
    const samples = fleet
      .keepAliveSamples()
      .kept.slice(samplesBefore)
      .sort((a, b) => a - b);
    const expiryLeaveMs = await expiry;
    return {
      system: cluster.system,
      workers: fleet.size,
      windowSeconds,
      memberCpuMsPerSecond: cpuAfter.map((after, index) => (after - cpuBefore[index]!) / windowSeconds),
      fleetCpuMsPerSecond: (fleetCpu.user + fleetCpu.system) / 1000 / windowSeconds,
      keepAlives: samples.length,
      keepAliveP50Ms: percentile(samples, 0.5),
      keepAliveP99Ms: percentile(samples, 0.99),
      revokeLeaveMs,
      expiryLeaveMs,
      errors: fleet.errors.total,
      errorSummary: fleet.errors.describe(),
      loadAverage: [loadAtStart, loadAtEnd],
    };
  } finally {
    await fleet?.close();
    await cluster.stop();
  }
}
