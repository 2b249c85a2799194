import { runToExit } from '../harness.js';
import { describeLoad, type LoadOperation, timedLoad } from './load.js';
import { clusterOptionsFromEnvironment, MeshosCluster } from './meshos-cluster.js';

/**
 * `node dist/bench/cluster/counters.js [operation] [clients] [seconds] [warm-up seconds]`: a 3-node MeshOS cluster
 * under one load, then each node's work counters (peer frames and messages, fsyncs) per
 * successful request — the figures that explain CPU per request. `MESHOS_BENCH_CLIENT_TLS=1` serves
 * the client ports over TLS with client certificate auth, and the load connects with a certificate.
 */
const CLUSTER_TIMEOUT_MS = 30_000;
/** Counters printed per successful request. */
const PER_REQUEST = [
  'meshos_transport_sent_frames',
  'meshos_transport_sent_messages',
  'meshos_transport_received_messages',
  'meshos_store_fsyncs',
];
const CPU_SECONDS = 'meshos_process_process_cpu_seconds_total';
const PERSIST_SUM = 'meshos_wal_persist_seconds_sum';
const PERSIST_COUNT = 'meshos_wal_persist_seconds_count';
const COUNTERS = [...PER_REQUEST, CPU_SECONDS, PERSIST_SUM, PERSIST_COUNT];

async function readCounters(admin: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${admin}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, value] = line.split(' ');
    if (name !== undefined && value !== undefined && COUNTERS.includes(name)) values.set(name, Number(value));
  }
  return values;
}

async function main(): Promise<void> {
  const operation = (process.argv[2] ?? 'put') as LoadOperation;
  const clients = Number(process.argv[3] ?? 64);
  const seconds = Number(process.argv[4] ?? 5);
  const warmupSeconds = Number(process.argv[5] ?? 0);
  const cluster = await MeshosCluster.create(clusterOptionsFromEnvironment());
  try {
    await cluster.start(CLUSTER_TIMEOUT_MS);
    const leader = await cluster.leaderIndex(CLUSTER_TIMEOUT_MS);
    const tls = await cluster.clientTls();
    if (warmupSeconds > 0) {
      const warmup = await timedLoad(cluster.endpoints, operation, clients, warmupSeconds * 1000, tls);
      console.log(`warm-up: ${describeLoad(warmup)}`);
    }
    const admins = cluster.endpoints.map((_, index) => cluster.adminAddress(index));
    const before = await Promise.all(admins.map(readCounters));
    const cpuBefore = process.cpuUsage();
    const result = await timedLoad(cluster.endpoints, operation, clients, seconds * 1000, tls);
    const after = await Promise.all(admins.map(readCounters));
    const cpu = process.cpuUsage(cpuBefore);
    const generatorCores = (cpu.user + cpu.system) / 1000 / result.durationMs;
    console.log(
      `${tls === undefined ? 'plaintext' : 'TLS'} ${describeLoad(result)}; leader n${leader + 1}; load generator ${generatorCores.toFixed(2)} cores`,
    );
    for (let index = 0; index < admins.length; index++) {
      const delta = (name: string): number =>
        (after[index]?.get(name) ?? 0) - (before[index]?.get(name) ?? 0);
      const parts = PER_REQUEST.map(
        (name) => `${name.replace(/^meshos_/, '')}=${(delta(name) / result.succeeded).toFixed(3)}`,
      );
      const cpuMs = (delta(CPU_SECONDS) * 1e3) / result.succeeded;
      const persistMs = (delta(PERSIST_SUM) * 1e3) / Math.max(1, delta(PERSIST_COUNT));
      console.log(
        `n${index + 1}${index === leader ? ' (leader)' : ''} per request: ${parts.join(' ')} cpu=${cpuMs.toFixed(3)} ms; mean persist ${persistMs.toFixed(2)} ms`,
      );
    }
  } finally {
    await cluster.stop();
  }
}

runToExit(main);
