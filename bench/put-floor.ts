import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureLocalCertificates } from '../src/cli/local-cluster.js';
import type { BenchCluster } from './cluster/bench-cluster.js';
import { EtcdCluster } from './cluster/etcd-cluster.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, runLoad } from './cluster/load.js';
import { clusterOptionsFromEnvironment, MeshosCluster } from './cluster/meshos-cluster.js';
import { freePort, ManagedProcess, sleep, type ThreadTotals, threadTotals } from './cluster/processes.js';
import { wholeNumberFlag } from './flags.js';
import { median, runToExit } from './harness.js';
import { framed, readFrames } from './put-floor-wire.js';

/**
 * `node dist/bench/put-floor.js [--windows 8] [--window-seconds 5] [--baseline DIST]`: one
 * client's puts (the side-by-side bench's put ×1) against three systems alive at once, in short
 * windows that take turns (floor, MeshOS, etcd, then the reverse), so the machine's drift falls
 * on all three alike. Per window: the members' CPU per put (every thread's run time from
 * `/proc/PID/task/TID/schedstat`), their context switches per put and the rate. `--baseline`
 * adds a fourth system, a MeshOS cluster run from another build's `dist` folder (an earlier
 * commit's, say), so a change is measured against what it changes in the same windows.
 *
 * The floor (`put-floor-member.ts`) is the least a replicated put can cost three Node processes
 * here: the same writes, fdatasyncs (on MeshOS's sync thread), mutual-TLS messages and 10 ms
 * timer as a MeshOS put at one client, and nothing else. What MeshOS spends above it is the work
 * of its own code (Raft, the log's records, the key-value store, gRPC over HTTP/2, metrics),
 * not the machine's cost of waking a process.
 */

const CLUSTER_TIMEOUT_MS = 60_000;
const WARM_UP_MS = 10_000;
const SETTLE_MS = 1_000;
const MS_PER_SECOND = 1_000;
/** The floor's request body: about a put of a 256-byte value with its key and framing. */
const FLOOR_REQUEST_BYTES = 300;
const MEMBER_READY_TIMEOUT_MS = 10_000;
const MEMBER_READY_POLL_MS = 20;
/** Bounds a load's count (its latencies are kept in an array of this size): far above a window's. */
const MAX_PUTS_PER_LOAD = 1_000_000;

/** The systems' names in the report, which also finds their figures. */
const SYSTEM = { floor: 'floor', meshos: 'MeshOS', baseline: 'MeshOS (baseline)', etcd: 'etcd' } as const;

interface WindowFigures {
  readonly cpuMicrosecondsPerPut: number;
  readonly switchesPerPut: number;
  readonly putsPerSecond: number;
}

async function measured(
  pids: readonly number[],
  run: () => Promise<number>,
  seconds: number,
): Promise<WindowFigures> {
  const before = await Promise.all(pids.map(threadTotals));
  const puts = await run();
  const after = await Promise.all(pids.map(threadTotals));
  const delta = (pick: (totals: ThreadTotals) => number): number =>
    after.reduce((total, totals, index) => total + pick(totals) - pick(before[index]!), 0);
  return {
    cpuMicrosecondsPerPut: delta((totals) => totals.runMicroseconds) / Math.max(1, puts),
    switchesPerPut:
      delta((totals) => totals.voluntarySwitches + totals.involuntarySwitches) / Math.max(1, puts),
    putsPerSecond: puts / seconds,
  };
}

/** The floor: three `put-floor-member` processes and one client connection to the leader. */
class PutFloor {
  /** Told of each answer to the load in progress. */
  private onAnswer: (() => void) | undefined;

  private constructor(
    private readonly root: string,
    private readonly members: readonly ManagedProcess[],
    private readonly client: net.Socket,
  ) {
    readFrames(client, () => this.onAnswer?.());
  }

  static async start(): Promise<PutFloor> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'bench-floor-'));
    const certificates = path.join(root, 'certs');
    await ensureLocalCertificates(certificates, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    const clientPort = String(await freePort());
    const followerPorts = [String(await freePort()), String(await freePort())];
    const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'put-floor-member.js');
    const start = async (args: string[]): Promise<ManagedProcess> => {
      const member = new ManagedProcess(`floor-${args[1]}`, process.execPath, [script, ...args]);
      const deadline = Date.now() + MEMBER_READY_TIMEOUT_MS;
      while (!member.output.join('').includes('ready')) {
        if (!member.alive || Date.now() > deadline)
          throw new Error(`floor member ${args[1]} did not start\n${member.describe()}`);
        await sleep(MEMBER_READY_POLL_MS);
      }
      return member;
    };
    const followers = [
      await start(['follower', '2', followerPorts[0]!, certificates, root]),
      await start(['follower', '3', followerPorts[1]!, certificates, root]),
    ];
    const leader = await start(['leader', '1', clientPort, certificates, root, ...followerPorts]);
    const client = net.connect(Number(clientPort), '127.0.0.1');
    client.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    return new PutFloor(root, [leader, ...followers], client);
  }

  get pids(): number[] {
    return this.members.map((member) => member.pid ?? 0);
  }

  /**
   * One client's puts, each sent when the previous is answered, for `durationMs`; the count
   * answered. Fails when one put goes unanswered for `DEFAULT_REQUEST_TIMEOUT_MS` (a member died).
   */
  puts(durationMs: number): Promise<number> {
    const request = framed(Buffer.alloc(FLOOR_REQUEST_BYTES));
    const endMs = Date.now() + durationMs;
    return new Promise((resolve, reject) => {
      let answered = 0;
      const unanswered = (): void => {
        this.onAnswer = undefined;
        reject(new Error(`the floor left a put unanswered for ${DEFAULT_REQUEST_TIMEOUT_MS} ms`));
      };
      let deadline = setTimeout(unanswered, DEFAULT_REQUEST_TIMEOUT_MS);
      this.onAnswer = () => {
        answered++;
        clearTimeout(deadline);
        if (Date.now() < endMs) {
          deadline = setTimeout(unanswered, DEFAULT_REQUEST_TIMEOUT_MS);
          this.client.write(request);
          return;
        }
        this.onAnswer = undefined;
        resolve(answered);
      };
      this.client.write(request);
    });
  }

  async stop(): Promise<void> {
    this.client.destroy();
    await Promise.all(this.members.map((member) => member.stop()));
    await rm(this.root, { recursive: true, force: true });
  }
}

async function clusterPuts(cluster: BenchCluster, durationMs: number): Promise<number> {
  const leader = await cluster.leaderIndex(CLUSTER_TIMEOUT_MS);
  let puts = 0;
  await runLoad({
    endpoints: [cluster.endpoints[leader]!],
    operation: 'put',
    clients: 1,
    maxRequests: MAX_PUTS_PER_LOAD,
    maxDurationMs: durationMs,
    observe: (_start, _duration, succeeded) => {
      if (succeeded) puts++;
    },
  });
  return puts;
}

function clusterPids(cluster: BenchCluster): number[] {
  return cluster.endpoints.map((_endpoint, index) => cluster.pid(index) ?? 0);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      windows: { type: 'string' },
      'window-seconds': { type: 'string' },
      baseline: { type: 'string' },
    },
    strict: true,
  });
  const windows = wholeNumberFlag('windows', values.windows, 8, 1, 100);
  const seconds = wholeNumberFlag('window-seconds', values['window-seconds'], 5, 1, 60);
  const baselineScript = values.baseline === undefined ? undefined : baselineMainScript(values.baseline);
  const floor = await PutFloor.start();
  const meshos = await MeshosCluster.create(clusterOptionsFromEnvironment());
  const baseline =
    baselineScript === undefined
      ? undefined
      : await MeshosCluster.create({ ...clusterOptionsFromEnvironment(), mainScript: baselineScript });
  const etcd = await EtcdCluster.create();
  const systems: Array<{ name: string; pids: () => number[]; puts: (ms: number) => Promise<number> }> = [
    { name: SYSTEM.floor, pids: () => floor.pids, puts: (ms) => floor.puts(ms) },
    { name: SYSTEM.meshos, pids: () => clusterPids(meshos), puts: (ms) => clusterPuts(meshos, ms) },
    ...(baseline === undefined
      ? []
      : [
          {
            name: SYSTEM.baseline,
            pids: () => clusterPids(baseline),
            puts: (ms: number) => clusterPuts(baseline, ms),
          },
        ]),
    { name: SYSTEM.etcd, pids: () => clusterPids(etcd), puts: (ms) => clusterPuts(etcd, ms) },
  ];
  const figures = new Map<string, WindowFigures[]>(systems.map((system) => [system.name, []]));
  try {
    await meshos.start(CLUSTER_TIMEOUT_MS);
    await baseline?.start(CLUSTER_TIMEOUT_MS);
    await etcd.start(CLUSTER_TIMEOUT_MS);
    // The JIT compiles a Node process's paths over its first seconds of load.
    for (const system of systems) await system.puts(WARM_UP_MS);
    for (let window = 0; window < windows; window++) {
      for (const system of window % 2 === 0 ? systems : [...systems].reverse()) {
        await system.puts(SETTLE_MS);
        const result = await measured(system.pids(), () => system.puts(seconds * MS_PER_SECOND), seconds);
        figures.get(system.name)!.push(result);
      }
      console.error(`window ${window + 1}/${windows} done`);
    }
  } finally {
    await Promise.all([floor.stop(), meshos.stop(), baseline?.stop(), etcd.stop()]);
  }
  const etcdCpu = figures.get(SYSTEM.etcd)!.map((figure) => figure.cpuMicrosecondsPerPut);
  console.log(
    `One client's puts to the leader, ${windows} windows of ${seconds} s per system, taking turns.\n`,
  );
  console.log(
    "| system | members' CPU per put, µs (median) | per window | ÷ etcd (median of windows) | context switches per put | puts/s |",
  );
  console.log('| --- | ---: | --- | ---: | ---: | ---: |');
  for (const [name, list] of figures) {
    const cpu = list.map((figure) => figure.cpuMicrosecondsPerPut);
    const ratios = cpu.map((value, index) => value / etcdCpu[index]!);
    console.log(
      `| ${name} | ${median(cpu).toFixed(0)} | ${cpu.map((value) => value.toFixed(0)).join(', ')} | ${median(ratios).toFixed(2)} | ${median(list.map((figure) => figure.switchesPerPut)).toFixed(1)} | ${median(list.map((figure) => figure.putsPerSecond)).toFixed(0)} |`,
    );
  }
  const baselineFigures = figures.get(SYSTEM.baseline);
  if (baselineFigures !== undefined) {
    const meshosCpu = figures.get(SYSTEM.meshos)!.map((figure) => figure.cpuMicrosecondsPerPut);
    const paired = meshosCpu.map((value, index) => value / baselineFigures[index]!.cpuMicrosecondsPerPut);
    console.log(
      `\nMeshOS ÷ baseline, CPU per put, window by window: median ${median(paired).toFixed(3)} (${paired.map((value) => value.toFixed(2)).join(', ')})`,
    );
  }
}

/** The CLI script of the build in `dist` (a folder as `npm run build` makes it), checked to exist. */
function baselineMainScript(dist: string): string {
  const script = path.resolve(dist, 'src', 'cli', 'main.js');
  if (!existsSync(script)) throw new Error(`--baseline: no build at ${dist} (${script} is missing)`);
  return script;
}

runToExit(main);
