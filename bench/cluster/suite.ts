import { performance } from 'node:perf_hooks';
import { percentile } from '../harness.js';
import type { BenchCluster } from './bench-cluster.js';
import {
  describeLoad,
  type LoadResult,
  MAX_REQUESTS_PER_TIMED_LOAD,
  preloadReadKeys,
  runLoad,
  timedLoad,
} from './load.js';
import { cpuTimeMs, sleep } from './processes.js';

/** Bounds of one side-by-side run; the defaults keep one system's suite near 90 s. */
export interface SuiteOptions {
  readonly putClientCounts: readonly number[];
  readonly getClients: number;
  readonly loadDurationMs: number;
  readonly maxRequestsPerLoad: number;
  readonly warmupMs: number;
  /** Unmeasured load at a point's own operation and client count right before it is measured. */
  readonly settleMs: number;
  readonly failoverRuns: number;
  readonly failoverClients: number;
  /** Steady load before the leader is killed. */
  readonly failoverSteadyMs: number;
  /** Give up on one failover measurement after this long. */
  readonly failoverTimeoutMs: number;
  /**
   * Per-request deadline during the failover run: a put forwarded to the dead leader is lost, so
   * its client only retries after this; it bounds the gap's resolution (16 clients stagger it).
   */
  readonly failoverRequestTimeoutMs: number;
  readonly clusterTimeoutMs: number;
}

/** Clients of the put warm-up: enough to run every path a loaded cluster runs. */
const WARMUP_CLIENTS = 64;

export const DEFAULT_SUITE_OPTIONS: SuiteOptions = {
  putClientCounts: [1, 16, 64, 256],
  getClients: 64,
  loadDurationMs: 5_000,
  maxRequestsPerLoad: 500_000,
  // A JIT runtime runs its hot paths interpreted, then compiles them on the same two cores;
  // measuring in its first seconds would measure the compiler. The same warm-up for every system.
  warmupMs: 10_000,
  // A change of load pattern (64 clients to 1) makes the JIT drop code specialised for the
  // previous pattern and compile again: MeshOS's put x1 took 4-6 s after the 64-client warm-up
  // to reach its steady latency (docs/BENCHMARKS.md, "Put x1 after a change of load"). Each
  // point is measured after this much of its own load, the same for every system.
  settleMs: 3_000,
  failoverRuns: 2,
  failoverClients: 16,
  failoverSteadyMs: 1_500,
  failoverTimeoutMs: 20_000,
  failoverRequestTimeoutMs: 200,
  clusterTimeoutMs: 30_000,
};

/** A load's figures plus the CPU it cost: robust to a busy machine where raw rates are not. */
export interface MeasuredLoad extends LoadResult {
  /** The point's name in reports, e.g. `put ×64` or `put ×1 to a follower`. */
  readonly workload: string;
  /** CPU time of all members together per successful request, in ms. */
  readonly serverCpuMsPerRequest: number;
  /** CPU the load generator itself used, in cores (1 = one core busy all the time). */
  readonly clientCores: number;
}

export interface SystemResults {
  readonly system: string;
  readonly puts: readonly MeasuredLoad[];
  readonly linearizableGet: MeasuredLoad;
  readonly serializableGet: MeasuredLoad;
  /** One gap per failover run, in ms; NaN when no put succeeded in time. */
  readonly failoverGapsMs: readonly number[];
  readonly failoverGapMedianMs: number;
}

export type Log = (line: string) => void;

/** How a failover measurement takes the leader out of service, and brings it back. */
export interface LeaderDisruption {
  /** For logs: what happened to the leader. */
  readonly name: string;
  begin(cluster: BenchCluster, leader: number): Promise<void>;
  /** Brings the member back and waits until the members agree on a leader. */
  end(cluster: BenchCluster, leader: number, options: SuiteOptions): Promise<void>;
}

export const KILL_LEADER: LeaderDisruption = {
  name: 'killed (SIGKILL)',
  begin: (cluster, leader) => cluster.kill(leader),
  end: (cluster, leader, options) => cluster.restart(leader, options.clusterTimeoutMs),
};

/**
 * Disrupts the leader under a put load (kill -9 by default) and measures the gap from the
 * disruption to the first successful put that was sent after it.
 */
export async function measureFailover(
  cluster: BenchCluster,
  options: SuiteOptions,
  log: Log,
  disruption: LeaderDisruption = KILL_LEADER,
): Promise<number> {
  const abort = new AbortController();
  let killedAt = Number.POSITIVE_INFINITY;
  let recovered: (doneAt: number) => void = () => {};
  const firstSuccess = new Promise<number>((resolve) => {
    recovered = resolve;
  });
  const load = runLoad({
    endpoints: cluster.endpoints,
    operation: 'put',
    clients: options.failoverClients,
    maxRequests: options.maxRequestsPerLoad,
    maxDurationMs: options.failoverSteadyMs + options.failoverTimeoutMs + 5_000,
    requestTimeoutMs: options.failoverRequestTimeoutMs,
    signal: abort.signal,
    observe: (sentAt, doneAt, succeeded) => {
      if (succeeded && sentAt >= killedAt) recovered(doneAt);
    },
  });
  let gap = Number.NaN;
  let leader = -1;
  try {
    await sleep(options.failoverSteadyMs);
    leader = await cluster.leaderIndex(options.clusterTimeoutMs);
    killedAt = performance.now();
    await disruption.begin(cluster, leader);
    const timeout = sleep(options.failoverTimeoutMs).then(() => Number.NaN);
    const doneAt = await Promise.race([firstSuccess, timeout]);
    gap = doneAt - killedAt;
  } finally {
    abort.abort();
    const result = await load;
    log(`    failover load: ${describeLoad(result)}`);
  }
  log(`  failover: member ${leader + 1} (leader) ${disruption.name}, first put after ${gap.toFixed(0)} ms`);
  await disruption.end(cluster, leader, options);
  // Let the member catch up before the next measurement.
  await sleep(1_000);
  return gap;
}

/** The whole side-by-side suite against a running cluster. */
/** A member that stopped mid-suite leaves figures of a two-member cluster: the run fails instead. */
function requireAllRunning(cluster: BenchCluster, during: string): void {
  for (let index = 0; index < cluster.endpoints.length; index++) {
    if (cluster.pid(index) === undefined)
      throw new Error(
        `${cluster.system}: member ${index + 1} stopped during ${during}\n${cluster.describeOutput()}`,
      );
  }
}

type MeasureLoad = (
  operation: LoadResult['operation'],
  clients: number,
  workload: string,
  firstEndpoint?: number,
) => Promise<MeasuredLoad>;

/**
 * One put client, once to the leader and once to a follower. A put through a follower takes
 * more hops than one to the leader (forward and answer, or etcd's proposal forwarding), and which
 * member leads is whoever won the first election, so a single ×1 point through a fixed member
 * would compare one system's leader with the other's follower in some runs.
 */
async function onePutClientByRole(
  cluster: BenchCluster,
  options: SuiteOptions,
  load: MeasureLoad,
): Promise<MeasuredLoad[]> {
  const leader = await cluster.leaderIndex(options.clusterTimeoutMs);
  const follower = (leader + 1) % cluster.endpoints.length;
  return [
    await load('put', 1, 'put ×1 to the leader', leader),
    await load('put', 1, 'put ×1 to a follower', follower),
  ];
}

export async function runClusterSuite(
  cluster: BenchCluster,
  options: SuiteOptions,
  log: Log,
): Promise<SystemResults> {
  const clusterCpuMs = async (): Promise<number> => {
    let total = 0;
    for (let index = 0; index < cluster.endpoints.length; index++) {
      const pid = cluster.pid(index);
      if (pid !== undefined) total += await cpuTimeMs(pid).catch(() => 0);
    }
    return total;
  };
  const load = async (
    operation: LoadResult['operation'],
    clients: number,
    workload: string,
    firstEndpoint?: number,
  ): Promise<MeasuredLoad> => {
    const shape = {
      endpoints: cluster.endpoints,
      operation,
      clients,
      ...(firstEndpoint === undefined ? {} : { firstEndpoint }),
    };
    if (options.settleMs > 0)
      await runLoad({ ...shape, maxRequests: MAX_REQUESTS_PER_TIMED_LOAD, maxDurationMs: options.settleMs });
    const serverBefore = await clusterCpuMs();
    const clientBefore = process.cpuUsage();
    const result = await runLoad({
      ...shape,
      maxRequests: options.maxRequestsPerLoad,
      maxDurationMs: options.loadDurationMs,
    });
    const client = process.cpuUsage(clientBefore);
    const serverCpuMs = (await clusterCpuMs()) - serverBefore;
    requireAllRunning(cluster, `${operation} x${clients}`);
    const measured: MeasuredLoad = {
      ...result,
      workload,
      serverCpuMsPerRequest: serverCpuMs / Math.max(1, result.succeeded),
      clientCores: (client.user + client.system) / 1000 / result.durationMs,
    };
    log(
      `  ${firstEndpoint === undefined ? '' : `${workload}: `}${describeLoad(result)}; members ${measured.serverCpuMsPerRequest.toFixed(3)} CPU ms/request, load generator ${measured.clientCores.toFixed(2)} cores`,
    );
    return measured;
  };

  log(
    `${cluster.system}: warm-up (leader: member ${(await cluster.leaderIndex(options.clusterTimeoutMs)) + 1})`,
  );
  await timedLoad(cluster.endpoints, 'put', WARMUP_CLIENTS, options.warmupMs);
  const puts: MeasuredLoad[] = [];
  for (const clients of options.putClientCounts) {
    if (clients === 1) puts.push(...(await onePutClientByRole(cluster, options, load)));
    else puts.push(await load('put', clients, `put ×${clients}`));
  }
  await preloadReadKeys(cluster.endpoints);
  await timedLoad(cluster.endpoints, 'get-linearizable', options.getClients, options.warmupMs / 2);
  const linearizableGet = await load(
    'get-linearizable',
    options.getClients,
    `linearizable get ×${options.getClients}`,
  );
  const serializableGet = await load(
    'get-serializable',
    options.getClients,
    `serializable get ×${options.getClients}`,
  );
  const failoverGapsMs: number[] = [];
  for (let run = 0; run < options.failoverRuns; run++) {
    failoverGapsMs.push(await measureFailover(cluster, options, log));
  }
  const sortedGaps = failoverGapsMs.map((gap) => (Number.isNaN(gap) ? Number.POSITIVE_INFINITY : gap));
  sortedGaps.sort((a, b) => a - b);
  return {
    system: cluster.system,
    puts,
    linearizableGet,
    serializableGet,
    failoverGapsMs,
    failoverGapMedianMs: percentile(sortedGaps, 0.5),
  };
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
}

/** One load's figures averaged over rounds (counts added up). */
export function mergeLoads(loads: readonly MeasuredLoad[]): MeasuredLoad {
  const first = loads[0];
  if (first === undefined) throw new Error('no load to merge');
  const firstError = loads.find((load) => load.firstError !== undefined)?.firstError;
  return {
    workload: first.workload,
    operation: first.operation,
    clients: first.clients,
    succeeded: loads.reduce((sum, load) => sum + load.succeeded, 0),
    failed: loads.reduce((sum, load) => sum + load.failed, 0),
    durationMs: loads.reduce((sum, load) => sum + load.durationMs, 0),
    throughputPerSecond: mean(loads.map((load) => load.throughputPerSecond)),
    p50Ms: mean(loads.map((load) => load.p50Ms)),
    p99Ms: mean(loads.map((load) => load.p99Ms)),
    serverCpuMsPerRequest: mean(loads.map((load) => load.serverCpuMsPerRequest)),
    clientCores: mean(loads.map((load) => load.clientCores)),
    // Which member leads differs between rounds: the per-member figures stay in each round's log.
    byMember: [],
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** Several rounds of one system as one result: loads averaged, failover gaps pooled. */
export function mergeRounds(rounds: readonly SystemResults[]): SystemResults {
  const first = rounds[0];
  if (first === undefined) throw new Error('no round to merge');
  const failoverGapsMs = rounds.flatMap((round) => round.failoverGapsMs);
  const sortedGaps = failoverGapsMs.map((gap) => (Number.isNaN(gap) ? Number.POSITIVE_INFINITY : gap));
  sortedGaps.sort((a, b) => a - b);
  return {
    system: first.system,
    puts: first.puts.map((put) =>
      mergeLoads(rounds.flatMap((round) => round.puts.filter((other) => other.workload === put.workload))),
    ),
    linearizableGet: mergeLoads(rounds.map((round) => round.linearizableGet)),
    serializableGet: mergeLoads(rounds.map((round) => round.serializableGet)),
    failoverGapsMs,
    failoverGapMedianMs: percentile(sortedGaps, 0.5),
  };
}
