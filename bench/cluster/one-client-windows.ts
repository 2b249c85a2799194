import { appendFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { wholeNumberFlag } from '../flags.js';
import { describeLoad, timedLoad } from './load.js';
import { clusterOptionsFromEnvironment, MeshosCluster } from './meshos-cluster.js';
import { cpuTimeMs, sleep, threadTotals } from './processes.js';

/**
 * `node dist/bench/cluster/one-client-windows.js [--target leader|follower] [--preload-seconds 10]
 * [--preload-clients 64] [--windows 8] [--window-seconds 2] [--rounds 1]`: one client's puts (the
 * side-by-side bench's put ×1) to one member of a 3-member MeshOS cluster, reported per window:
 * rate, p50, p99 and each member's CPU per put. Before the windows, `--preload-clients` clients
 * put for `--preload-seconds` (0: none), so the windows show how one-client puts fare after a
 * change of load (the JIT meeting object shapes the heavier load did not show). `--rounds` repeats
 * preload and windows on the same cluster. The members' pids are printed first, for `strace -p`
 * or `perf` during a window; `MESHOS_BENCH_NODE_FLAGS` and `MESHOS_BENCH_OUTPUT_DIR` pass flags
 * to the members and keep their output (e.g. `--trace-deopt`).
 */
const CLUSTER_TIMEOUT_MS = 60_000;
const MS_PER_SECOND = 1_000;

/** `read` of each member's process (0 for a member not running). */
function perMember(cluster: MeshosCluster, read: (pid: number) => Promise<number>): Promise<number[]> {
  return Promise.all(
    Array.from({ length: cluster.size }, (_, index) => {
      const pid = cluster.pid(index);
      return pid === undefined ? 0 : read(pid);
    }),
  );
}

function membersCpuMs(cluster: MeshosCluster): Promise<number[]> {
  return perMember(cluster, cpuTimeMs);
}

/** Voluntary context switches of every thread of `pid`: per put, they count wake-ups. */
async function sleepsOf(pid: number): Promise<number> {
  return (await threadTotals(pid)).voluntarySwitches;
}

function membersSleeps(cluster: MeshosCluster): Promise<number[]> {
  return perMember(cluster, sleepsOf);
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Marks a point of the run in each member's kept output (`MESHOS_BENCH_OUTPUT_DIR`), if kept. */
async function markOutputs(cluster: MeshosCluster, text: string): Promise<void> {
  const directory = process.env.MESHOS_BENCH_OUTPUT_DIR;
  if (directory === undefined || directory === '') return;
  // The members' output reaches the files through pipes: what they wrote before lands first.
  await sleep(200);
  await Promise.all(
    Array.from({ length: cluster.size }, (_, index) =>
      appendFile(path.join(directory, `n${index + 1}.log`), `=== ${text} ===\n`),
    ),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', default: 'leader' },
      'preload-seconds': { type: 'string' },
      'preload-clients': { type: 'string' },
      windows: { type: 'string' },
      'window-seconds': { type: 'string' },
      rounds: { type: 'string' },
    },
  });
  const target = values.target;
  if (target !== 'leader' && target !== 'follower') throw new Error('--target must be leader or follower');
  const preloadSeconds = wholeNumberFlag('preload-seconds', values['preload-seconds'], 10, 0, 600);
  const preloadClients = wholeNumberFlag('preload-clients', values['preload-clients'], 64, 1, 1024);
  const windows = wholeNumberFlag('windows', values.windows, 8, 1, 1000);
  const windowSeconds = wholeNumberFlag('window-seconds', values['window-seconds'], 2, 1, 600);
  const rounds = wholeNumberFlag('rounds', values.rounds, 1, 1, 100);

  const cluster = await MeshosCluster.create(clusterOptionsFromEnvironment());
  try {
    await cluster.start(CLUSTER_TIMEOUT_MS);
    const leader = await cluster.leaderIndex(CLUSTER_TIMEOUT_MS);
    const member = target === 'leader' ? leader : (leader + 1) % cluster.size;
    const endpoint = cluster.endpoints[member];
    if (endpoint === undefined) throw new Error('no endpoint');
    const pids = Array.from({ length: cluster.size }, (_, index) => `n${index + 1}=${cluster.pid(index)}`);
    console.log(`leader n${leader + 1}; one client to n${member + 1} (${target}); pids ${pids.join(' ')}`);
    for (let round = 1; round <= rounds; round++) {
      if (preloadSeconds > 0) {
        const before = await membersCpuMs(cluster);
        const preload = await timedLoad(
          cluster.endpoints,
          'put',
          preloadClients,
          preloadSeconds * MS_PER_SECOND,
        );
        const cpuMs = sum(await membersCpuMs(cluster)) - sum(before);
        console.log(
          `round ${round} preload: ${describeLoad(preload)}; members' CPU per put ${(cpuMs / Math.max(1, preload.succeeded)).toFixed(2)} ms`,
        );
      }
      await markOutputs(cluster, `round ${round} windows start`);
      for (let window = 1; window <= windows; window++) {
        const before = await membersCpuMs(cluster);
        const sleepsBefore = await membersSleeps(cluster);
        const result = await timedLoad([endpoint], 'put', 1, windowSeconds * MS_PER_SECOND);
        const sleeps = (await membersSleeps(cluster)).map(
          (count, index) => count - (sleepsBefore[index] ?? 0),
        );
        const after = await membersCpuMs(cluster);
        const puts = Math.max(1, result.succeeded);
        const perPut = after.map((ms, index) => (ms - (before[index] ?? 0)) / puts);
        const total = sum(perPut);
        console.log(
          `round ${round} window ${window}: ${Math.round(result.throughputPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms; members' CPU per put ${total.toFixed(2)} ms (${perPut.map((ms, index) => `n${index + 1} ${ms.toFixed(2)}`).join(', ')}); thread sleeps per put ${(sum(sleeps) / puts).toFixed(1)} (${sleeps.map((count, index) => `n${index + 1} ${(count / puts).toFixed(1)}`).join(', ')})${result.failed > 0 ? `; ${result.failed} failed` : ''}`,
        );
      }
      await markOutputs(cluster, `round ${round} windows end`);
    }
  } finally {
    await cluster.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
