import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { NodeDisk, silentLogger } from '../src/lib/node/index.js';
import { openRaftLogStore, type StoredEntry } from '../src/store/index.js';
import { type BenchSuite, percentile } from './harness.js';

const ENTRY_DATA_BYTES = 256;
const APPENDER_COUNTS = [1, 16, 64] as const;
/** Each concurrency level runs for at most this long and at most this many appends. */
const APPEND_RUN_TIME_MS = 2_000;
const APPEND_RUN_MAX_ENTRIES = 200_000;
const RECOVERY_ENTRIES = 100_000;
const RECOVERY_WRITE_BATCH_ENTRIES = 1_000;
const RECOVERY_RUNS = 3;

function entryAt(index: number, data: Uint8Array): StoredEntry {
  return { index, term: 1, kind: 0, data };
}

async function withTemporaryDirectory<T>(action: (directory: string) => Promise<T>): Promise<T> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-store-bench-'));
  try {
    return await action(path.join(root, 'raft'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Durable storage bounds Raft's commit latency: every entry is fsynced before it is acknowledged. */
export const suite: BenchSuite = {
  name: 'store',
  async run(context) {
    const disk = new NodeDisk();
    const data = new Uint8Array(ENTRY_DATA_BYTES).fill(7);

    for (const appenders of APPENDER_COUNTS) {
      await withTemporaryDirectory(async (directory) => {
        const { store } = await openRaftLogStore(disk, directory, { logger: silentLogger });
        const latenciesMs: number[] = [];
        let nextIndex = 1;
        const startedMs = performance.now();
        const fsyncsBefore = store.metrics.fsyncs;
        const deadlineMs = startedMs + APPEND_RUN_TIME_MS;
        const appender = async (): Promise<void> => {
          while (performance.now() < deadlineMs && nextIndex <= APPEND_RUN_MAX_ENTRIES) {
            const index = nextIndex++;
            const beganMs = performance.now();
            await store.append([entryAt(index, data)]);
            latenciesMs.push(performance.now() - beganMs);
          }
        };
        await Promise.all(Array.from({ length: appenders }, appender));
        const elapsedSeconds = (performance.now() - startedMs) / 1000;
        const fsyncs = store.metrics.fsyncs - fsyncsBefore;
        await store.close();
        latenciesMs.sort((a, b) => a - b);
        const label = `append 256 B, ${appenders} concurrent`;
        context.record({
          metric: `${label}: entries/s`,
          median: latenciesMs.length / elapsedSeconds,
          unit: 'entries/s',
          samples: latenciesMs.length,
        });
        context.record({
          metric: `${label}: fsyncs/s`,
          median: fsyncs / elapsedSeconds,
          unit: 'fsyncs/s',
          samples: fsyncs,
        });
        context.record({
          metric: `${label}: latency`,
          median: percentile(latenciesMs, 0.5),
          p99: percentile(latenciesMs, 0.99),
          unit: 'ms',
          samples: latenciesMs.length,
        });
      });
    }

    await withTemporaryDirectory(async (directory) => {
      const { store } = await openRaftLogStore(disk, directory, { logger: silentLogger });
      for (let first = 1; first <= RECOVERY_ENTRIES; first += RECOVERY_WRITE_BATCH_ENTRIES) {
        const batch: StoredEntry[] = [];
        for (let index = first; index < first + RECOVERY_WRITE_BATCH_ENTRIES; index++)
          batch.push(entryAt(index, data));
        await store.append(batch);
      }
      await store.close();
      const timing = await context.repeat(RECOVERY_RUNS, async () => {
        const beganMs = performance.now();
        const opened = await openRaftLogStore(disk, directory, { logger: silentLogger });
        const elapsedMs = performance.now() - beganMs;
        if (opened.recovered.entries.length !== RECOVERY_ENTRIES) {
          throw new Error(
            `recovered ${opened.recovered.entries.length} entries, expected ${RECOVERY_ENTRIES}`,
          );
        }
        await opened.store.close();
        return elapsedMs;
      });
      context.record({
        metric: `recover ${RECOVERY_ENTRIES} entries of 256 B`,
        median: timing.median,
        p99: timing.p99,
        unit: 'ms',
        samples: RECOVERY_RUNS,
      });
    });
  },
};
