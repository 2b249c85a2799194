import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_ELECTION_TICKS,
  DEFAULT_HEARTBEAT_TICKS,
  DEFAULT_TICK_INTERVAL_MS,
} from '../src/raft/index.js';
import type { BenchCluster } from './cluster/bench-cluster.js';
import { ETCD_BINARY, EtcdCluster } from './cluster/etcd-cluster.js';
import { DEFAULT_CHANNELS_PER_ENDPOINT, DEFAULT_VALUE_BYTES } from './cluster/load.js';
import { clusterOptionsFromEnvironment, MeshosCluster } from './cluster/meshos-cluster.js';
import { renderReport } from './cluster/report.js';
import { parseSoakDuration, soakSystems } from './cluster/soak.js';
import { runStressMode, withCluster } from './cluster/stress-modes.js';
import {
  DEFAULT_SUITE_OPTIONS,
  mergeRounds,
  runClusterSuite,
  type SuiteOptions,
  type SystemResults,
} from './cluster/suite.js';
import { machineDescription, runToExit } from './harness.js';

/**
 * `npm run bench:etcd`: the same client suite against a 3-member etcd cluster, then a 3-node
 * MeshOS cluster, one at a time on this machine; writes docs/BENCHMARKS-ETCD.md.
 * The machine's load drifts, so the systems alternate over rounds in the order etcd, MeshOS,
 * MeshOS, etcd, ... and each figure is the mean over rounds.
 * Options: --systems etcd,meshos  --rounds N (default 2)  --quick (short loads, one round)  --output FILE
 *          --note TEXT (repeatable; added to the page's notes)
 *          --saturation (see cluster/saturation.ts) or --chaos (cluster/chaos.ts) instead of the suite,
 *          with --duration SECONDS (saturation: each load phase, default 300; chaos: the run, default 45);
 *          they write their own section of the page.
 *          --catch-up [--keys N] (cluster/catch-up.ts): a follower catching up from a snapshot after N keys
 *          (default 1,000,000) were loaded without it, with clients writing; its own section too.
 *          --soak [--duration 30m] [--note TEXT]: instead, the put soak of cluster/soak.ts (memory, errors and elections
 *          under a steady load with auto-compaction on both), written into docs/BENCHMARKS.md.
 */
const REPORT_FILE = path.join('docs', 'BENCHMARKS-ETCD.md');
/** What follows this line in the report (profile notes, analysis) is hand-written and kept. */
const KEPT_SECTION_MARKER = '<!-- hand-written below: kept when the bench rewrites this page -->';
/** Whole-run guard: a stuck run is ended (and its processes killed) after this long. */
const RUN_TIMEOUT_MS = 15 * 60 * 1000;

const QUICK_OPTIONS: Partial<SuiteOptions> = {
  loadDurationMs: 3_000,
  warmupMs: 4_000,
  settleMs: 1_000,
  failoverRuns: 1,
};
const DEFAULT_ROUNDS = 2;
const SOAK_REPORT_FILE = path.join('docs', 'BENCHMARKS.md');
const DEFAULT_SOAK_DURATION = '30m';
/** The soak's guard: its duration per system plus this much for starting and stopping clusters. */
const SOAK_GUARD_EXTRA_MS = 10 * 60 * 1000;

function positiveKeys(text: string): number {
  const keys = Number(text);
  if (!Number.isSafeInteger(keys) || keys < 1) throw new Error('--keys must be a positive integer');
  return keys;
}

function log(line: string): void {
  console.log(line);
}

function runSystem(cluster: BenchCluster, options: SuiteOptions): Promise<SystemResults> {
  return withCluster(cluster, options.clusterTimeoutMs, log, (started) =>
    runClusterSuite(started, options, log),
  );
}

function etcdVersion(): string {
  try {
    return execFileSync(ETCD_BINARY, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? 'etcd ?';
  } catch {
    return 'etcd not found';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      systems: { type: 'string', default: 'etcd,meshos' },
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      output: { type: 'string', default: REPORT_FILE },
      note: { type: 'string', multiple: true, default: [] },
      saturation: { type: 'boolean', default: false },
      chaos: { type: 'boolean', default: false },
      'catch-up': { type: 'boolean', default: false },
      keys: { type: 'string' },
      soak: { type: 'boolean', default: false },
      duration: { type: 'string' },
    },
    strict: true,
  });
  const systems = new Set(values.systems.split(',').map((name) => name.trim().toLowerCase()));
  if (values.soak) {
    const durationMs = parseSoakDuration(values.duration ?? DEFAULT_SOAK_DURATION);
    setTimeout(
      () => {
        console.error('bench:etcd --soak overran its guard; stopping');
        process.exit(1);
      },
      systems.size * durationMs + SOAK_GUARD_EXTRA_MS,
    ).unref();
    await soakSystems(systems, durationMs, SOAK_REPORT_FILE, log, values.note);
    return;
  }
  const options: SuiteOptions = { ...DEFAULT_SUITE_OPTIONS, ...(values.quick ? QUICK_OPTIONS : {}) };
  const durationSeconds = values.duration === undefined ? undefined : Number(values.duration);
  if (durationSeconds !== undefined && !(durationSeconds > 0)) throw new Error('--duration must be positive');
  // A saturation run loads each system for two phases of the given length on top of the rest.
  const runTimeoutMs = RUN_TIMEOUT_MS + (values.saturation ? 4 * (durationSeconds ?? 300) * 1000 : 0);
  const guard = setTimeout(() => {
    console.error(`bench:etcd took longer than ${runTimeoutMs} ms; stopping`);
    process.exit(1);
  }, runTimeoutMs);
  guard.unref();
  const loadAverage = os.loadavg().map((value) => value.toFixed(2));
  if (values.saturation || values.chaos || values['catch-up']) {
    const durationSeconds = values.duration === undefined ? undefined : Number(values.duration);
    if (durationSeconds !== undefined && !(durationSeconds > 0))
      throw new Error('--duration must be positive');
    await runStressMode({
      mode: values.saturation ? 'saturation' : values.chaos ? 'chaos' : 'catch-up',
      ...(values.keys === undefined ? {} : { keys: positiveKeys(values.keys) }),
      systems,
      ...(durationSeconds === undefined ? {} : { durationMs: durationSeconds * 1000 }),
      suite: options,
      output: values.output,
      log,
    });
    return;
  }

  const rounds = Number(values.rounds ?? (values.quick ? 1 : DEFAULT_ROUNDS));
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  const etcdRounds: SystemResults[] = [];
  const meshosRounds: SystemResults[] = [];
  const loadAverages: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['etcd', 'meshos'] : ['meshos', 'etcd'];
    for (const system of order) {
      if (!systems.has(system)) continue;
      loadAverages.push(`${system} round ${round + 1}: ${os.loadavg()[0]?.toFixed(2) ?? '?'}`);
      log(`round ${round + 1}/${rounds}`);
      if (system === 'etcd') etcdRounds.push(await runSystem(await EtcdCluster.create(), options));
      else
        meshosRounds.push(
          await runSystem(await MeshosCluster.create(clusterOptionsFromEnvironment()), options),
        );
    }
  }
  const etcd = etcdRounds.length === 0 ? undefined : mergeRounds(etcdRounds);
  const meshos = meshosRounds.length === 0 ? undefined : mergeRounds(meshosRounds);

  const report = renderReport(
    {
      date: new Date().toISOString(),
      machine: `${machineDescription()}, ${os.type()} ${os.release()}; load average at start ${loadAverage.join(' ')}`,
      versions: `${etcdVersion()}; MeshOS ${process.env.npm_package_version ?? 'working tree'}`,
      notes: [
        'One system at a time on the same machine; each is 3 members on 127.0.0.1, started fresh in a temporary directory on the same disk.',
        'etcd: defaults (heartbeat 100 ms, election 1000 ms, fsync on), plaintext peers and clients, log level warn.',
        `MeshOS: \`meshos start\` ×3 as in production — mutual TLS 1.3 between peers, write-ahead log fdatasync on, Raft tick ${DEFAULT_TICK_INTERVAL_MS} ms, election ${DEFAULT_TICK_INTERVAL_MS * DEFAULT_ELECTION_TICKS} ms, heartbeat ${DEFAULT_TICK_INTERVAL_MS * DEFAULT_HEARTBEAT_TICKS} ms — plaintext gRPC clients, log level warn.`,
        `Load generator (bench/cluster/load.ts over bench/cluster/raw-kv-channels.ts, in the bench process): unary gRPC calls on plain node:http2 sessions, request bodies serialized with etcd's protobuf definitions, the answer's grpc-status checked (bodies not decoded) — a fraction of @grpc/grpc-js's CPU per call, so the generator squeezes the measured system less; closed loop, each client keeps exactly one request in flight; clients share ${DEFAULT_CHANNELS_PER_ENDPOINT} HTTP/2 channels per member and are spread evenly over all 3 members (both systems: followers forward writes to the leader, reads use ReadIndex on the member asked). The one-client put runs twice, its client on the member leading at that moment and then on a follower: which member leads is whoever won the first election, and a write through a follower takes two more hops.`,
        `Puts: ${DEFAULT_VALUE_BYTES}-byte values, each client cycling through 1,000 keys of its own. Gets: 1,000 preloaded ${DEFAULT_VALUE_BYTES}-byte keys; linearizable is the default Range, serializable sets serializable=true.`,
        `Each load runs ${options.loadDurationMs / 1000} s or ${options.maxRequestsPerLoad} requests, whichever ends first, after a ${options.warmupMs / 1000} s warm-up of 64-client puts (and half that of gets before the gets) and ${options.settleMs / 1000} s of the point's own load, unmeasured; p50/p99 are per-request latencies of successful requests.`,
        `${rounds} round(s), each system on a fresh cluster per round, alternating (etcd, MeshOS, MeshOS, etcd, ...) so drift in the machine's load hits both alike; each figure is the mean over rounds, failover gaps are pooled. One-minute load average before each: ${loadAverages.join('; ')}.`,
        `Failover: during a ${options.failoverClients}-client put load (per-request deadline ${options.failoverRequestTimeoutMs} ms, failed clients move to the next member after 10 ms), the leader is killed with SIGKILL; the gap is the time from the kill to the first successful put that was sent after the kill. ${options.failoverRuns} runs per round, the killed member restarted between runs; the median of all runs is reported.`,
        'Ratios are MeshOS/etcd: above 1 is better for throughput, below 1 is better for latency and failover gap.',
        'Caveat: the machine has 2 cores shared with other work, and the load generator runs on the same cores; treat differences under ~20% as noise.',
        ...values.note,
      ],
    },
    meshos,
    etcd,
  );
  mkdirSync(path.dirname(values.output), { recursive: true });
  const previous = existsSync(values.output) ? readFileSync(values.output, 'utf8') : '';
  const kept = previous.indexOf(KEPT_SECTION_MARKER);
  writeFileSync(values.output, kept < 0 ? report : `${report}\n${previous.slice(kept)}`);
  log(`\n${report}`);
  log(`written to ${values.output}`);
}

runToExit(main);
