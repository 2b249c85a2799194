/**
 * Where one client's append spends its milliseconds (`node dist/bench/chains/append-path.js
 * [--samples=N] [--rounds=N]`): three `meshos start` processes on loopback, an `interval` chain
 * (3 replicas, acks quorum) led by member 0, one client making one call at a time. Each round
 * measures, in turn, N sequential calls of each kind, so every kind sees the same machine:
 *
 * - `Status` unary on the leader's node: a gRPC round trip and a handler, no replication;
 * - `Append` unary on the leader's node, and through a follower (forwarded over the peer link);
 * - an `AppendStream` append (one stream kept open) on the leader's node, and through a follower;
 * - `client.chains.append` (the stream behind the client's shared-append turn and retry loop).
 *
 * Differences between them split an append into the gRPC call, replication (leader to followers
 * and back), and forwarding. The peer links' RTT comes from the proximity graph (`/mesh/rtt`),
 * CPU from `process.cpuUsage` (this process) and `/proc` (the members).
 */

import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { ChainAppendStreams } from '../../src/client/chain-append-stream.js';
import { EndpointConnection } from '../../src/client/endpoint.js';
import { MeshClient } from '../../src/client/index.js';
import { SystemClock } from '../../src/lib/index.js';
import { clusterOptionsFromEnvironment, MeshosCluster } from '../cluster/meshos-cluster.js';
import { cpuTimeMs, sleep } from '../cluster/processes.js';
import { wholeNumberFlag } from '../flags.js';
import { percentile } from '../harness.js';
import { recordPayload } from './append-load.js';

const START_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 5_000;
const CHAIN = 'append-path';
const INTERVAL_SYNC_MS = 1_000;
const DEFAULT_SAMPLES = 200;
const DEFAULT_ROUNDS = 3;

interface Kind {
  readonly label: string;
  /** Member whose client port the call goes to (0 leads the chain). */
  readonly member: number;
  readonly call: (counter: number) => Promise<unknown>;
}

interface Figures {
  readonly samplesMs: number[];
  clientCpuMs: number;
  membersCpuMs: number;
}

async function membersCpuMs(cluster: MeshosCluster): Promise<number> {
  let total = 0;
  for (let index = 0; index < 3; index++) {
    const pid = cluster.pid(index);
    if (pid !== undefined) total += await cpuTimeMs(pid);
  }
  return total;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { samples: { type: 'string' }, rounds: { type: 'string' } } });
  const samples = wholeNumberFlag('samples', values.samples, DEFAULT_SAMPLES, 10, 10_000);
  const rounds = wholeNumberFlag('rounds', values.rounds, DEFAULT_ROUNDS, 1, 10);
  const cluster = await MeshosCluster.create(clusterOptionsFromEnvironment());
  const clock = new SystemClock();
  try {
    await cluster.start(START_TIMEOUT_MS);
    const endpoints = cluster.endpoints;
    const admin = await MeshClient.connect({ endpoints: [endpoints[0]!], discoverLeader: false });
    for (const deadline = Date.now() + START_TIMEOUT_MS; ; ) {
      try {
        await admin.chains.create(CHAIN, {
          replicas: 3,
          acks: 'quorum',
          sync: { mode: 'interval', intervalMs: INTERVAL_SYNC_MS },
          timeoutMs: CALL_TIMEOUT_MS,
        });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
    const status = await admin.chains.status(CHAIN);
    const leaderMember = (status.leader as number) - 1;
    const followerMember = (leaderMember + 1) % 3;
    const connections = endpoints.map(
      (address) => new EndpointConnection(address, [], grpc.credentials.createInsecure()),
    );
    // An idle stream is closed after a while: each kind's warm-up opens it again.
    const streams = new ChainAppendStreams(clock);
    const leaderClient = await MeshClient.connect({
      endpoints: [endpoints[leaderMember]!],
      discoverLeader: false,
    });
    const deadline = (): Date => new Date(Date.now() + CALL_TIMEOUT_MS);
    const payload = (counter: number): Uint8Array => recordPayload(0, counter);
    const unaryAppend = (member: number, counter: number) =>
      connections[member]!.unary(
        'chains',
        'Append',
        { name: CHAIN, payloads: [payload(counter)] },
        new grpc.Metadata(),
        deadline(),
      );
    const appendsOn = (where: string, member: number): Kind[] => [
      { label: `Append unary, ${where}`, member, call: (counter) => unaryAppend(member, counter) },
      {
        label: `AppendStream, ${where}`,
        member,
        call: (counter) =>
          streams.to(connections[member]!)!.append(CHAIN, [payload(counter)], CALL_TIMEOUT_MS),
      },
    ];
    const kinds: Kind[] = [
      {
        label: 'Status unary, leader node (gRPC round trip, no replication)',
        member: leaderMember,
        call: () =>
          connections[leaderMember]!.unary(
            'chains',
            'Status',
            { name: CHAIN },
            new grpc.Metadata(),
            deadline(),
          ),
      },
      ...appendsOn('leader node', leaderMember),
      {
        label: 'client.chains.append, leader node',
        member: leaderMember,
        call: (counter) =>
          leaderClient.chains.append(CHAIN, payload(counter), { timeoutMs: CALL_TIMEOUT_MS }),
      },
      ...appendsOn('through a follower', followerMember),
    ];
    const figures = new Map<string, Figures>(
      kinds.map((kind) => [kind.label, { samplesMs: [], clientCpuMs: 0, membersCpuMs: 0 }]),
    );
    let counter = 0;
    for (let round = 0; round < rounds; round++) {
      for (const kind of kinds) {
        // A few calls first: connections and streams open, code paths warm.
        for (let warm = 0; warm < 10; warm++) await kind.call(counter++);
        const entry = figures.get(kind.label)!;
        const cpuBefore = process.cpuUsage();
        const membersBefore = await membersCpuMs(cluster);
        for (let sample = 0; sample < samples; sample++) {
          const startedAt = performance.now();
          await kind.call(counter++);
          entry.samplesMs.push(performance.now() - startedAt);
        }
        const cpu = process.cpuUsage(cpuBefore);
        entry.clientCpuMs += (cpu.user + cpu.system) / 1000;
        entry.membersCpuMs += (await membersCpuMs(cluster)) - membersBefore;
      }
    }
    const rtt = await fetch(`http://${cluster.adminAddress(leaderMember)}/mesh/rtt`).then(
      (response) => response.text(),
      (error: unknown) => `(no /mesh/rtt: ${String(error)})`,
    );
    const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
    console.log(
      `append path: ${rounds} rounds x ${samples} sequential calls per kind, one-minute load ${load}`,
    );
    console.log(
      '| call | p50 (ms) | p90 (ms) | p99 (ms) | client CPU / call (ms) | members CPU / call (ms) |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const kind of kinds) {
      const entry = figures.get(kind.label)!;
      const sorted = [...entry.samplesMs].sort((a, b) => a - b);
      const calls = sorted.length;
      console.log(
        `| ${kind.label} | ${percentile(sorted, 0.5).toFixed(2)} | ${percentile(sorted, 0.9).toFixed(2)} | ${percentile(sorted, 0.99).toFixed(2)} | ${(entry.clientCpuMs / calls).toFixed(3)} | ${(entry.membersCpuMs / calls).toFixed(3)} |`,
      );
    }
    console.log(`peer RTT (leader's /mesh/rtt): ${rtt.trim()}`);
    streams.closeAll();
    for (const connection of connections) connection.close();
    leaderClient.close();
    admin.close();
  } finally {
    await cluster.stop();
  }
}

await main();
