/**
 * One client's `batch` chain append against its Raft KV put, on one cluster (`node
 * dist/bench/chains/append-against-put.js [--ops=300] [--rounds=4] [--strace]`): three `meshos
 * start` processes, one client connected to the Raft leader only, a 3-replica chain (acks quorum,
 * fdatasync per batch) created through it (so led by it). Blocks of `--ops` sequential puts and
 * sequential appends alternate `--rounds` times; per kind: p50 / p90 latency, and per operation
 * each member's CPU and peer frames sent (`/metrics`). Both make one fdatasync on the leader and
 * one on each follower per operation, so the difference is the path. A probe of this disk's
 * fdatasync (write 300 B + fdatasync through the thread pool, one loop and one per member at once)
 * runs before and after.
 * `--strace` also counts, per operation, each member's event-loop turns (`epoll_pwait` calls),
 * socket and file writes and fdatasyncs, with `strace -f -c` attached during one extra block of
 * each kind (strace slows the processes: read the counts, not the times). `--appends-only` leaves
 * the puts out (for a CPU profile of the members with `MESHOS_BENCH_NODE_FLAGS=--cpu-prof`).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { open, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { MeshClient } from '../../src/client/index.js';
import { clusterOptionsFromEnvironment, MeshosCluster } from '../cluster/meshos-cluster.js';
import { sleep } from '../cluster/processes.js';
import { wholeNumberFlag } from '../flags.js';
import { percentile } from '../harness.js';
import { recordPayload } from './append-load.js';
import { createBenchChain, sampleMembers } from './member-samples.js';

const START_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 5_000;
const MEMBERS = 3;
const CHAIN = 'append-against-put';
const WARM_UP_OPS = 300;
const SYNC_PROBE_SAMPLES = 300;
const STRACE_SETTLE_MS = 500;
const IDLE_SAMPLE_MS = 3_000;
const STRACED_CALLS = ['epoll_pwait', 'epoll_wait', 'write', 'writev', 'fdatasync', 'fsync', 'pwrite64'];

type Kind = 'put' | 'append';

/** p50 / p90 in µs of `samples` (ms). */
function quantiles(samples: number[]): string {
  samples.sort((a, b) => a - b);
  return `${(percentile(samples, 0.5) * 1000).toFixed(0)} / ${(percentile(samples, 0.9) * 1000).toFixed(0)}`;
}

/**
 * This disk's fdatasync of a small append through the thread pool, as a chain segment's: `loops`
 * files written and synced at once, one loop each (three: one per replica of a loopback
 * cluster). Gives µs p50 / p90 of one sync and the syncs/s of all loops together.
 */
async function probeSync(loops: number): Promise<string> {
  const timings: number[] = [];
  const block = new Uint8Array(300);
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      const file = path.join(tmpdir(), `sync-probe-${process.pid}-${loop}`);
      const handle = await open(file, 'w');
      try {
        for (let index = 0; index < SYNC_PROBE_SAMPLES; index++) {
          await handle.write(block);
          const syncStartedAt = performance.now();
          await handle.datasync();
          timings.push(performance.now() - syncStartedAt);
        }
      } finally {
        await handle.close();
        await rm(file, { force: true });
      }
    }),
  );
  const syncsPerSecond = (loops * SYNC_PROBE_SAMPLES * 1000) / (performance.now() - startedAt);
  return `${loops} loop(s) ${quantiles(timings)} µs p50 / p90, ${syncsPerSecond.toFixed(0)} syncs/s`;
}

async function probeSyncs(): Promise<string> {
  return `${await probeSync(1)}; ${await probeSync(MEMBERS)}; load ${loadavg()[0]?.toFixed(1)}`;
}

/** `strace -f -c` on each member for the life of `run`; per member, call name -> count. */
async function straced(pids: readonly number[], run: () => Promise<void>): Promise<Map<string, number>[]> {
  const tracers: { child: ChildProcess; output: Promise<string> }[] = pids.map((pid) => {
    const child = spawn('strace', ['-f', '-c', '-e', `trace=${STRACED_CALLS.join(',')}`, '-p', String(pid)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const output = new Promise<string>((resolve) => {
      let text = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      child.on('close', () => resolve(text));
    });
    return { child, output };
  });
  await sleep(STRACE_SETTLE_MS);
  try {
    await run();
  } finally {
    for (const tracer of tracers) tracer.child.kill('SIGINT');
  }
  return Promise.all(
    tracers.map(async (tracer) => {
      const counts = new Map<string, number>();
      for (const line of (await tracer.output).split('\n')) {
        const fields = line.trim().split(/\s+/);
        const name = fields[fields.length - 1] as string;
        if (!STRACED_CALLS.includes(name) || fields.length < 5) continue;
        counts.set(name, Number(fields[3]));
      }
      return counts;
    }),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ops: { type: 'string' },
      rounds: { type: 'string' },
      strace: { type: 'boolean' },
      'appends-only': { type: 'boolean' },
    },
  });
  const ops = wholeNumberFlag('ops', values.ops, 300, 10, 100_000);
  const rounds = wholeNumberFlag('rounds', values.rounds, 4, 1, 50);
  // Appends alone: for a CPU profile of the members (`MESHOS_BENCH_NODE_FLAGS=--cpu-prof`).
  const kinds: readonly Kind[] = values['appends-only'] === true ? ['append'] : ['put', 'append'];
  console.log(`fdatasync probe before: ${await probeSyncs()}`);
  const cluster = await MeshosCluster.create(clusterOptionsFromEnvironment());
  let client: MeshClient | undefined;
  try {
    await cluster.start(START_TIMEOUT_MS);
    const leader = await cluster.leaderIndex(START_TIMEOUT_MS);
    client = await MeshClient.connect({ endpoints: [cluster.endpoints[leader]!], discoverLeader: false });
    const meshClient = client;
    await createBenchChain(meshClient, CHAIN, {
      replicas: MEMBERS,
      sync: 'batch',
      intervalMs: 0,
      callTimeoutMs: CALL_TIMEOUT_MS,
      timeoutMs: START_TIMEOUT_MS,
    });
    let counter = 0;
    const once: Record<Kind, () => Promise<unknown>> = {
      put: () =>
        meshClient.put(`against/${counter % 1000}`, recordPayload(0, counter), {
          timeoutMs: CALL_TIMEOUT_MS,
        }),
      append: () =>
        meshClient.chains.append(CHAIN, recordPayload(0, counter), { timeoutMs: CALL_TIMEOUT_MS }),
    };
    const block = async (kind: Kind, count: number, latencies?: number[]): Promise<void> => {
      for (let index = 0; index < count; index++, counter++) {
        const startedAt = performance.now();
        await once[kind]();
        latencies?.push(performance.now() - startedAt);
      }
    };
    await block('put', WARM_UP_OPS);
    await block('append', WARM_UP_OPS);
    const status = await meshClient.chains.status(CHAIN);
    console.log(
      `Raft leader: member ${leader} (node ${leader + 1}); chain leader: node ${status.leader}; ${ops} ops a block, ${rounds} rounds, load ${loadavg()[0]?.toFixed(1)}`,
    );
    // What the members spend with nothing to do (timers, pings, heartbeats), to read the per-op CPU by.
    const idleBefore = await sampleMembers(cluster, MEMBERS);
    await sleep(IDLE_SAMPLE_MS);
    const idleAfter = await sampleMembers(cluster, MEMBERS);
    console.log(
      `idle CPU, ms per second (leader first): ${[leader, ...[0, 1, 2].filter((member) => member !== leader)]
        .map((member) =>
          (((idleAfter[member]!.cpuMs - idleBefore[member]!.cpuMs) * 1000) / IDLE_SAMPLE_MS).toFixed(0),
        )
        .join(' / ')}`,
    );
    const latencies: Record<Kind, number[]> = { put: [], append: [] };
    const perOp: Record<Kind, number[][]> = { put: [], append: [] };
    for (let round = 0; round < rounds; round++) {
      for (const kind of kinds) {
        const before = await sampleMembers(cluster, MEMBERS);
        await block(kind, ops, latencies[kind]);
        const after = await sampleMembers(cluster, MEMBERS);
        perOp[kind].push(
          after.flatMap((sample, member) => [
            (sample.cpuMs - before[member]!.cpuMs) / ops,
            (sample.frames - before[member]!.frames) / ops,
          ]),
        );
      }
    }
    console.log(
      '\n| kind | latency p50 / p90 (µs) | per op, leader: CPU ms / peer frames | follower A | follower B |',
    );
    console.log('| --- | ---: | --- | --- | --- |');
    const followers = [0, 1, 2].filter((member) => member !== leader);
    for (const kind of kinds) {
      const cell = (member: number): string => {
        const cpu = perOp[kind].map((sample) => sample[member * 2]!);
        const frames = perOp[kind].map((sample) => sample[member * 2 + 1]!);
        cpu.sort((a, b) => a - b);
        frames.sort((a, b) => a - b);
        return `${percentile(cpu, 0.5).toFixed(3)} / ${percentile(frames, 0.5).toFixed(2)}`;
      };
      console.log(
        `| ${kind} | ${quantiles(latencies[kind])} | ${cell(leader)} | ${cell(followers[0]!)} | ${cell(followers[1]!)} |`,
      );
    }
    if (values.strace === true) {
      const pids = [leader, ...followers].map((member) => cluster.pid(member) as number);
      console.log(`\nper op under strace -f -c (${ops} ops; leader, follower A, follower B):`);
      console.log(`| kind | ${STRACED_CALLS.join(' | ')} |`);
      console.log(`| --- |${' ---: |'.repeat(STRACED_CALLS.length)}`);
      for (const kind of kinds) {
        const counts = await straced(pids, () => block(kind, ops));
        const cells = STRACED_CALLS.map((name) =>
          counts.map((member) => ((member.get(name) ?? 0) / ops).toFixed(1)).join(' / '),
        );
        console.log(`| ${kind} | ${cells.join(' | ')} |`);
      }
    }
  } finally {
    client?.close();
    await cluster.stop();
  }
  console.log(`\nfdatasync probe after: ${await probeSyncs()}`);
}

await main();
