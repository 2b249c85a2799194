import { mkdtemp, readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToExit } from '../harness.js';
import { ALLOCATION_DIRECTORY_VARIABLE, type AllocationReport, COUNTER_SITE } from './allocation-report.js';
import { describeLoad, runLoad } from './load.js';
import { MeshosCluster } from './meshos-cluster.js';

/**
 * `node dist/bench/cluster/allocations.js [clients] [puts] [warm-up puts] [sites]`: a 3-member
 * cluster under a put load of a fixed number of requests, with `allocation-counter.js` in every
 * member; prints per put (of the whole cluster) on the leader and on each follower the buffers
 * made through JavaScript (own ArrayBuffers and pool slices) and the JS heap bytes allocated,
 * with the largest sites. Counts, not rates: they hardly depend on the machine's load (only
 * through how many puts share a peer frame or an fsync).
 */
const CLUSTER_TIMEOUT_MS = 30_000;
const LOAD_TIMEOUT_MS = 600_000;
const REPORT_WAIT_MS = 20_000;
const REPORT_POLL_MS = 200;

const counterScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'allocation-counter.js');

async function readReport(directory: string, pid: number): Promise<AllocationReport> {
  const deadline = Date.now() + REPORT_WAIT_MS;
  for (;;) {
    try {
      return JSON.parse(await readFile(path.join(directory, `${pid}.json`), 'utf8')) as AllocationReport;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, REPORT_POLL_MS));
    }
  }
}

function perPut(value: number, puts: number, digits = 2): string {
  return (value / puts).toFixed(digits);
}

function describeMember(report: AllocationReport, role: string, puts: number, sites: number): string[] {
  const ownCount = Object.values(report.ownBuffers).reduce((sum, kind) => sum + kind.count, 0);
  const ownBytes = Object.values(report.ownBuffers).reduce((sum, kind) => sum + kind.bytes, 0);
  const counterBytes = report.heapSites.find((entry) => entry.site === COUNTER_SITE)?.bytes ?? 0;
  const gcs = Object.entries(report.gcs)
    .map(([kind, count]) => `${kind} ${perPut(count * 1000, puts, 1)}`)
    .join(', ');
  const lines = [
    `${role} (pid ${report.pid}): own ArrayBuffers ${perPut(ownCount, puts)} per put (${perPut(ownBytes, puts, 0)} B); ` +
      `pool slices ${perPut(report.pooledSlices.count, puts)} per put (${perPut(report.pooledSlices.bytes, puts, 0)} B); ` +
      `JS heap ${perPut(report.heapAllocatedBytes - counterBytes, puts, 0)} B per put (counter's own ${perPut(counterBytes, puts, 0)} B left out); ` +
      `GCs per 1,000 puts: ${gcs}`,
    `  own buffers by kind: ${Object.entries(report.ownBuffers)
      .sort((left, right) => right[1].count - left[1].count)
      .map(
        ([kind, counts]) => `${kind} ${perPut(counts.count, puts, 3)} (${perPut(counts.bytes, puts, 0)} B)`,
      )
      .join('; ')}`,
    '  own buffers by site (sampled):',
    ...report.ownBufferSites
      .slice(0, sites)
      .map((entry) => `    ${perPut(entry.count, puts, 3)}  ${entry.site}`),
    '  pool slices by site (sampled):',
    ...report.pooledSliceSites
      .slice(0, sites)
      .map((entry) => `    ${perPut(entry.count, puts, 3)}  ${entry.site}`),
    '  JS heap by innermost MeshOS frame (sampled, B per put):',
    ...report.heapSites
      .filter((entry) => entry.site !== COUNTER_SITE)
      .slice(0, sites)
      .map((entry) => `    ${perPut(entry.bytes, puts, 0)}  ${entry.site}`),
  ];
  return lines;
}

async function main(): Promise<void> {
  const clients = Number(process.argv[2] ?? 64);
  const puts = Number(process.argv[3] ?? 20_000);
  const warmupPuts = Number(process.argv[4] ?? 5_000);
  const sites = Number(process.argv[5] ?? 12);
  const directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-allocations-'));
  process.env[ALLOCATION_DIRECTORY_VARIABLE] = directory;
  const cluster = await MeshosCluster.create({ nodeFlags: () => ['--import', counterScript] });
  try {
    await cluster.start(CLUSTER_TIMEOUT_MS);
    const leader = await cluster.leaderIndex(CLUSTER_TIMEOUT_MS);
    const load = (maxRequests: number) =>
      runLoad({
        endpoints: cluster.endpoints,
        operation: 'put',
        clients,
        maxRequests,
        maxDurationMs: LOAD_TIMEOUT_MS,
      });
    console.log(`warm-up: ${describeLoad(await load(warmupPuts))}`);
    const pids = cluster.endpoints.map((_, index) => cluster.pid(index));
    for (const pid of pids) if (pid !== undefined) process.kill(pid, 'SIGUSR2');
    // The counters start on the signal's turn; give every member a moment to reach it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const result = await load(puts);
    for (const pid of pids) if (pid !== undefined) process.kill(pid, 'SIGUSR2');
    console.log(`measured: ${describeLoad(result)}; leader n${leader + 1}`);
    for (let index = 0; index < pids.length; index++) {
      const pid = pids[index];
      if (pid === undefined) continue;
      const report = await readReport(directory, pid);
      const role = `n${index + 1} ${index === leader ? 'leader' : 'follower'}`;
      for (const line of describeMember(report, role, result.succeeded, sites)) console.log(line);
    }
  } finally {
    await cluster.stop();
  }
}

runToExit(main);
