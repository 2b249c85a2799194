import { describeLoad, type LoadResult, preloadReadKeys, runLoad } from './cluster/load.js';
import { bulkLoadKeys, MEMORY_KEY_BYTES, MEMORY_VALUE_BYTES } from './cluster/memory-load.js';
import { MeshosCluster } from './cluster/meshos-cluster.js';
import { residentBytes, sleep } from './cluster/processes.js';
import type { BenchSuite } from './harness.js';

/** MeshOS alone: a real 3-node cluster (TLS peers, fsync on) driven over the etcd API. */
const CLIENTS = 64;
const LOAD_DURATION_MS = 8_000;
const MAX_REQUESTS = 500_000;
const WARMUP_MS = 2_000;
const CLUSTER_TIMEOUT_MS = 30_000;
const MEMORY_TARGET_KEYS = 1_000_000;
/** Loading stops here even short of the target; the per-key figure is then extrapolated. */
const MEMORY_LOAD_MAX_MS = 90_000;
const MEMORY_LOAD_CONCURRENCY = 4;
/** Time for the leader to apply and settle before its RSS is read. */
const MEMORY_SETTLE_MS = 2_000;

export const suite: BenchSuite = {
  name: 'cluster/meshos',
  async run(context) {
    const cluster = await MeshosCluster.create();
    const recordLoad = (label: string, result: LoadResult, target?: string): void => {
      console.log(`  ${describeLoad(result)}`);
      context.record({
        metric: `${label} throughput`,
        median: result.throughputPerSecond,
        unit: 'req/s',
        samples: result.succeeded,
        ...(target === undefined ? {} : { target }),
      });
      context.record({
        metric: `${label} latency`,
        median: result.p50Ms,
        p99: result.p99Ms,
        unit: 'ms',
        samples: result.succeeded,
      });
    };
    try {
      await cluster.start(CLUSTER_TIMEOUT_MS);
      const leader = await cluster.leaderIndex(CLUSTER_TIMEOUT_MS);
      const leaderPid = cluster.pid(leader);
      if (leaderPid === undefined) throw new Error('leader has no pid');
      const baselineRss = await residentBytes(leaderPid);
      const load = (operation: LoadResult['operation'], maxDurationMs: number): Promise<LoadResult> =>
        runLoad({
          endpoints: cluster.endpoints,
          operation,
          clients: CLIENTS,
          maxRequests: MAX_REQUESTS,
          maxDurationMs,
        });
      await load('put', WARMUP_MS);
      recordLoad(`put x${CLIENTS}`, await load('put', LOAD_DURATION_MS), '>= 1.5x etcd');
      await preloadReadKeys(cluster.endpoints);
      recordLoad(
        `linearizable get x${CLIENTS}`,
        await load('get-linearizable', LOAD_DURATION_MS),
        '>= 1.5x etcd',
      );

      const bulk = await bulkLoadKeys(
        cluster.endpoints,
        MEMORY_TARGET_KEYS,
        MEMORY_LOAD_MAX_MS,
        MEMORY_LOAD_CONCURRENCY,
      );
      await sleep(MEMORY_SETTLE_MS);
      const loadedRss = await residentBytes(leaderPid);
      const perKey = (loadedRss - baselineRss) / Math.max(1, bulk.keys);
      const extrapolated = baselineRss + perKey * MEMORY_TARGET_KEYS;
      const complete = bulk.keys >= MEMORY_TARGET_KEYS;
      console.log(
        `  memory: ${bulk.keys} keys (${MEMORY_KEY_BYTES} B keys, ${MEMORY_VALUE_BYTES} B values) in ${(bulk.durationMs / 1000).toFixed(1)} s; leader RSS ${(baselineRss / 2 ** 20).toFixed(0)} MiB -> ${(loadedRss / 2 ** 20).toFixed(0)} MiB, ${perKey.toFixed(0)} B/key${complete ? '' : `; extrapolated to ${MEMORY_TARGET_KEYS} keys`}; ${bulk.retries} batches retried${bulk.firstError === undefined ? '' : ` (${bulk.firstError})`}`,
      );
      context.record({ metric: 'memory: keys loaded', median: bulk.keys, unit: 'keys', samples: 1 });
      context.record({
        metric: 'memory: bulk load rate (128-put txns)',
        median: (bulk.keys * 1000) / bulk.durationMs,
        unit: 'keys/s',
        samples: 1,
      });
      context.record({
        metric: 'memory: leader RSS after load',
        median: loadedRss / 2 ** 20,
        unit: 'MiB',
        samples: 1,
      });
      context.record({ metric: 'memory: RSS per key above idle', median: perKey, unit: 'B/key', samples: 1 });
      context.record({
        metric: complete ? 'memory: RSS at 1M keys (measured)' : 'memory: RSS at 1M keys (extrapolated)',
        median: extrapolated / 2 ** 20,
        unit: 'MiB',
        samples: 1,
      });
    } finally {
      await cluster.stop();
    }
  },
};
