import { mkdtemp, readdir } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type * as grpc from '@grpc/grpc-js';
import { chainsServiceDefinition, daemonsServiceDefinition } from '../../src/api/proto.js';
import { MeshClient } from '../../src/client/index.js';
import { runAppendLoad } from '../chains/append-load.js';
import { formatSummary, type ProfileWindow, summarizeProfileFile } from '../cluster/cpu-profile-summary.js';
import { runLoad } from '../cluster/load.js';
import { clusterOptionsFromEnvironment } from '../cluster/meshos-cluster.js';
import { cpuTimeMs } from '../cluster/processes.js';
import { grpcRequestFrame } from '../cluster/raw-kv-channels.js';
import { runToExit } from '../harness.js';
import { DAEMON_NAME, DaemonsBenchCluster, openRawCallers } from './daemons-cluster.js';
import { CLUSTER_TIMEOUT_MS, MAX_REQUESTS_PER_LOAD } from './daemons-round.js';

/**
 * `node dist/bench/daemons/event-path.js [--senders=1,64] [--seconds=3] [--profile]`: where an
 * event's time goes next to a KV put's (docs/BENCHMARKS.md "Daemons"). On one 3-node cluster
 * with the bench's `counter` standby group, closed-loop loads at each concurrency of: KV puts
 * through every node and through the Raft leader only; appends of a plain chain (3 replicas,
 * quorum, fsync per batch, led by the active's node, as the inbound chain is) through every node
 * and through its leader only; events through every node and through the active's node only.
 * Each load reports its rate, p50, and the CPU it cost per operation in the three members
 * (`/proc`) and in this load generator. With `--profile` every member runs under `--cpu-prof`
 * and each load's window of each member's profile is summarized (self time by area and function).
 */
const DEFAULT_SENDERS = '1,64';
const DEFAULT_SECONDS = 3;
const WARMUP_MS = 1_000;
const WARMUP_SENDERS = 16;
const CALL_TIMEOUT_MS = 5_000;
const PLAIN_CHAIN = 'bench-plain';
/** The plain chain's record: about an inbound record's size for the event `1`. */
const PLAIN_RECORD_BYTES = 16;
const PROFILE_TOP_FUNCTIONS = 14;

interface PathLoad {
  readonly label: string;
  readonly senders: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
  readonly membersCpuMsPerOp: number;
  readonly clientCpuMsPerOp: number;
  readonly window: ProfileWindow;
}

type Runner = (
  senders: number,
  durationMs: number,
) => Promise<{ done: number; failed: number; p50Ms: number; p99Ms: number; perSecond: number }>;

function microsecondsNow(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

async function membersCpuMs(cluster: DaemonsBenchCluster): Promise<number> {
  let total = 0;
  for (let index = 0; index < cluster.endpoints.length; index++) {
    const pid = cluster.processes.pid(index);
    if (pid !== undefined) total += await cpuTimeMs(pid);
  }
  return total;
}

async function measure(
  cluster: DaemonsBenchCluster,
  label: string,
  senders: number,
  durationMs: number,
  run: Runner,
): Promise<PathLoad> {
  const membersBefore = await membersCpuMs(cluster);
  const clientBefore = process.cpuUsage();
  const fromMicroseconds = microsecondsNow();
  const result = await run(senders, durationMs);
  const toMicroseconds = microsecondsNow();
  const client = process.cpuUsage(clientBefore);
  const members = (await membersCpuMs(cluster)) - membersBefore;
  const done = Math.max(1, result.done);
  const load: PathLoad = {
    label,
    senders,
    perSecond: result.perSecond,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    failed: result.failed,
    membersCpuMsPerOp: members / done,
    clientCpuMsPerOp: (client.user + client.system) / 1000 / done,
    window: { fromMicroseconds, toMicroseconds },
  };
  console.log(
    `  ${label} x${senders}: ${load.perSecond.toFixed(0)}/s, p50 ${load.p50Ms.toFixed(2)} ms, p99 ${load.p99Ms.toFixed(2)} ms, members ${load.membersCpuMsPerOp.toFixed(3)} ms CPU/op, client ${load.clientCpuMsPerOp.toFixed(3)}${load.failed > 0 ? `, ${load.failed} failed` : ''}`,
  );
  return load;
}

function putRunner(endpoints: readonly string[]): Runner {
  return async (clients, durationMs) => {
    const result = await runLoad({
      endpoints,
      operation: 'put',
      clients,
      maxRequests: MAX_REQUESTS_PER_LOAD,
      maxDurationMs: durationMs,
    });
    return {
      done: result.succeeded,
      failed: result.failed,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      perSecond: result.throughputPerSecond,
    };
  };
}

function callRunner(endpoints: readonly string[], grpcPath: string, frame: Buffer): Runner {
  return async (senders, durationMs) => {
    const callers = openRawCallers(endpoints, grpcPath, frame, senders);
    try {
      const result = await runAppendLoad({
        appenders: callers.senders,
        maxAppends: MAX_REQUESTS_PER_LOAD,
        maxDurationMs: durationMs,
        appendTimeoutMs: CALL_TIMEOUT_MS,
      });
      return {
        done: result.acknowledged,
        failed: result.failed,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        perSecond: result.acksPerSecond,
      };
    } finally {
      callers.close();
    }
  };
}

async function profileFile(directory: string): Promise<string | undefined> {
  const names = (await readdir(directory).catch(() => [] as string[])).filter((name) =>
    name.endsWith('.cpuprofile'),
  );
  return names[0] === undefined ? undefined : path.join(directory, names[0]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      senders: { type: 'string', default: DEFAULT_SENDERS },
      seconds: { type: 'string', default: String(DEFAULT_SECONDS) },
      profile: { type: 'boolean', default: false },
      top: { type: 'string', default: String(PROFILE_TOP_FUNCTIONS) },
    },
  });
  const senderCounts = String(values.senders)
    .split(',')
    .map((count) => Number(count));
  const durationMs = Number(values.seconds) * 1000;
  const profileRoot = values.profile ? await mkdtemp(path.join(os.tmpdir(), 'daemons-profile-')) : undefined;
  const cluster = await DaemonsBenchCluster.start(CLUSTER_TIMEOUT_MS, {
    ...clusterOptionsFromEnvironment(),
    ...(profileRoot === undefined
      ? {}
      : {
          nodeFlags: (index: number) => [
            '--cpu-prof',
            '--cpu-prof-dir',
            path.join(profileRoot, `n${index + 1}`),
          ],
        }),
  });
  const loads: PathLoad[] = [];
  let raftLeader = 0;
  let activeNode = 0;
  try {
    console.log(`load average ${os.loadavg()[0]?.toFixed(1)}`);
    const endpoints = cluster.endpoints;
    const endpointOf = (node: number) => [endpoints[DaemonsBenchCluster.indexOf(node)]!];
    raftLeader = await cluster.raftLeader(CLUSTER_TIMEOUT_MS);
    const putsAll = putRunner(endpoints);
    await putsAll(WARMUP_SENDERS, WARMUP_MS);
    for (const senders of senderCounts) {
      loads.push(await measure(cluster, 'put, any node', senders, durationMs, putsAll));
      loads.push(
        await measure(cluster, 'put, Raft leader', senders, durationMs, putRunner(endpointOf(raftLeader))),
      );
    }

    await cluster.deploy(CLUSTER_TIMEOUT_MS);
    activeNode = await cluster.activeNode(CLUSTER_TIMEOUT_MS);
    // Created through the active's node, which leads it (as the inbound chain is led there).
    const admin = await MeshClient.connect({ endpoints: endpointOf(activeNode), discoverLeader: false });
    try {
      await admin.chains.create(PLAIN_CHAIN, { replicas: 3, acks: 'quorum', timeoutMs: CLUSTER_TIMEOUT_MS });
    } finally {
      admin.close();
    }
    const appendMethod = chainsServiceDefinition().Append as grpc.MethodDefinition<object, unknown>;
    const appendFrame = grpcRequestFrame(appendMethod, {
      name: PLAIN_CHAIN,
      payloads: [Buffer.alloc(PLAIN_RECORD_BYTES, 0x31)],
    });
    const sendMethod = daemonsServiceDefinition().Send as grpc.MethodDefinition<object, unknown>;
    const sendFrame = grpcRequestFrame(sendMethod, {
      name: DAEMON_NAME,
      payload: Buffer.from('1'),
      key: '',
      client_id: '',
      sequence: 0,
    });
    const eventsAll = callRunner(endpoints, sendMethod.path, sendFrame);
    await eventsAll(WARMUP_SENDERS, WARMUP_MS);
    await callRunner(endpoints, appendMethod.path, appendFrame)(WARMUP_SENDERS, WARMUP_MS);
    const eventLoads: readonly (readonly [string, Runner])[] = [
      ['chain append, any node', callRunner(endpoints, appendMethod.path, appendFrame)],
      ['chain append, leader', callRunner(endpointOf(activeNode), appendMethod.path, appendFrame)],
      ['event, any node', eventsAll],
      ["event, active's node", callRunner(endpointOf(activeNode), sendMethod.path, sendFrame)],
    ];
    for (const senders of senderCounts)
      for (const [label, run] of eventLoads)
        loads.push(await measure(cluster, label, senders, durationMs, run));
  } finally {
    await cluster.stop();
  }
  console.log(
    `\nRaft leader n${raftLeader}, active (and chains' leader) n${activeNode}; load average ${os.loadavg()[0]?.toFixed(1)}\n`,
  );
  console.log('| load | senders | ops/s | p50 (ms) | p99 (ms) | members CPU/op (ms) | client CPU/op (ms) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const load of loads)
    console.log(
      `| ${load.label} | ${load.senders} | ${load.perSecond.toFixed(0)} | ${load.p50Ms.toFixed(2)} | ${load.p99Ms.toFixed(2)} | ${load.membersCpuMsPerOp.toFixed(3)} | ${load.clientCpuMsPerOp.toFixed(3)} |`,
    );
  if (profileRoot === undefined) return;
  for (let index = 0; index < cluster.endpoints.length; index++) {
    const file = await profileFile(path.join(profileRoot, `n${index + 1}`));
    if (file === undefined) {
      console.log(`n${index + 1}: no profile written`);
      continue;
    }
    for (const load of loads) {
      if (!load.label.endsWith('any node')) continue;
      const role = [index + 1 === raftLeader ? 'Raft leader' : '', index + 1 === activeNode ? 'active' : '']
        .filter((part) => part !== '')
        .join(', ');
      console.log(
        formatSummary(
          `n${index + 1}${role === '' ? '' : ` (${role})`}: ${load.label} x${load.senders}`,
          await summarizeProfileFile(file, Number(values.top), load.window),
        ),
      );
    }
  }
  console.log(
    `profiles in ${profileRoot}; windows: ${JSON.stringify(loads.map(({ label, senders, window }) => ({ label, senders, window })))}`,
  );
}

runToExit(main);
