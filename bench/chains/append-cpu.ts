/**
 * What an acknowledged append costs each process at many clients (`node
 * dist/bench/chains/append-cpu.js [--clients=64] [--seconds=5] [--rounds=3] [--sync=interval|batch]`):
 * three `meshos start` processes on loopback, a 3-replica chain (acks quorum) created through
 * member 0 (so led by it), and closed-loop clients spread over one `MeshClient` per member as in
 * `npm run bench -- chains` (two thirds of the appends are forwarded by a follower). Per round:
 * acks/s, then per member and for this load generator the CPU per acknowledged append (`/proc`,
 * `process.cpuUsage`) and, per member, the peer frames (socket writes) and messages it sent per
 * append (`/metrics`), which show how well a turn's messages to a peer share one write.
 * `MESHOS_BENCH_NODE_FLAGS=--cpu-prof` profiles the members as in the chains bench.
 */

import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { MeshClient } from '../../src/client/index.js';
import { clusterOptionsFromEnvironment, MeshosCluster } from '../cluster/meshos-cluster.js';
import { wholeNumberFlag } from '../flags.js';
import { runAppendLoad } from './append-load.js';
import { createBenchChain, sampleMembers } from './member-samples.js';

const START_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 5_000;
const INTERVAL_SYNC_MS = 1_000;
const MEMBERS = 3;
const WARM_UP_MS = 1_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      sync: { type: 'string' },
    },
  });
  const clients = wholeNumberFlag('clients', values.clients, 64, 1, 1_024);
  const seconds = wholeNumberFlag('seconds', values.seconds, 5, 1, 120);
  const rounds = wholeNumberFlag('rounds', values.rounds, 3, 1, 20);
  const sync = values.sync === 'batch' ? 'batch' : 'interval';
  const cluster = await MeshosCluster.create(clusterOptionsFromEnvironment());
  const meshClients: MeshClient[] = [];
  try {
    await cluster.start(START_TIMEOUT_MS);
    for (let member = 0; member < MEMBERS; member++) {
      const endpoints = cluster.endpoints;
      meshClients.push(
        await MeshClient.connect({
          endpoints: endpoints.map((_, offset) => endpoints[(member + offset) % MEMBERS]!),
          discoverLeader: false,
        }),
      );
    }
    const chain = 'append-cpu';
    await createBenchChain(meshClients[0]!, chain, {
      replicas: MEMBERS,
      sync,
      intervalMs: INTERVAL_SYNC_MS,
      callTimeoutMs: CALL_TIMEOUT_MS,
      timeoutMs: START_TIMEOUT_MS,
    });
    const appenders = Array.from({ length: clients }, (_, index) => {
      const client = meshClients[index % MEMBERS]!;
      return {
        append: async (payload: Uint8Array, timeoutMs: number): Promise<void> => {
          await client.chains.append(chain, payload, { timeoutMs });
        },
      };
    });
    await runAppendLoad({ appenders, maxAppends: 1_000_000, maxDurationMs: WARM_UP_MS });
    console.log(
      `append cost: ${clients} clients, ${sync} chain led by member 0, ${seconds} s per round; per acknowledged append: CPU ms / peer frames sent / peer messages sent`,
    );
    console.log(
      '| round (load) | acks/s | leader | follower 1 | follower 2 | load generator CPU | members CPU |',
    );
    console.log('| --- | ---: | --- | --- | --- | ---: | ---: |');
    for (let round = 1; round <= rounds; round++) {
      const load = loadavg()[0]!.toFixed(1);
      const before = await sampleMembers(cluster, MEMBERS);
      const generatorBefore = process.cpuUsage();
      const result = await runAppendLoad({
        appenders,
        maxAppends: 10_000_000,
        maxDurationMs: seconds * 1_000,
      });
      const generator = process.cpuUsage(generatorBefore);
      const after = await sampleMembers(cluster, MEMBERS);
      const acks = Math.max(1, result.acknowledged);
      const cells = after.map((sample, member) => {
        const was = before[member]!;
        return `${((sample.cpuMs - was.cpuMs) / acks).toFixed(3)} / ${((sample.frames - was.frames) / acks).toFixed(3)} / ${((sample.messages - was.messages) / acks).toFixed(3)}`;
      });
      const membersCpu = after.reduce((sum, sample, member) => sum + sample.cpuMs - before[member]!.cpuMs, 0);
      console.log(
        `| ${round} (${load}) | ${Math.round(result.acksPerSecond)} | ${cells.join(' | ')} | ${((generator.user + generator.system) / 1000 / acks).toFixed(3)} | ${(membersCpu / acks).toFixed(3)} |`,
      );
    }
  } finally {
    for (const client of meshClients) client.close();
    await cluster.stop();
  }
}

await main();
