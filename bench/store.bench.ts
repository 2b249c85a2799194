import { NodeDisk, silentLogger } from '../src/lib/node/index.js';
import { openRaftLogStore, type StoredEntry } from '../src/store/index.js';
import { type BenchSuite, recordAppendRun, runConcurrentAppends, withTemporaryDirectory } from './harness.js';

const ENTRY_DATA_BYTES = 256;
const APPENDER_COUNTS = [1, 16, 64] as const;
/** Each concurrency level runs for at most this long and at most this many appends. */
const APPEND_RUN_TIME_MS = 2_000;
const APPEND_RUN_MAX_ENTRIES = 200_000;
const RECOVERY_ENTRIES = 100_000;
const RECOVERY_WRITE_BATCH_ENTRIES = 1_000;
const RECOVERY_RUNS = 3;
const TEMPORARY_PREFIX = 'meshos-store-bench-';

function entryAt(index: number, data: Uint8Array): StoredEntry {
  return { index, term: 1, kind: 0, data };
}

/** Durable storage bounds Raft's commit latency: every entry is fsynced before it is acknowledged. */
export const suite: BenchSuite = {
  name: 'store',
  async run(context) {
    const disk = new NodeDisk();
    const data = new Uint8Array(ENTRY_DATA_BYTES).fill(7);

    for (const appenders of APPENDER_COUNTS) {
      await withTemporaryDirectory(TEMPORARY_PREFIX, 'raft', async (directory) => {
        const { store } = await openRaftLogStore(disk, directory, { logger: silentLogger });
        let nextIndex = 1;
        const fsyncsBefore = store.metrics.fsyncs;
        const run = await runConcurrentAppends(appenders, APPEND_RUN_TIME_MS, async () => {
          if (nextIndex > APPEND_RUN_MAX_ENTRIES) return false;
          await store.append([entryAt(nextIndex++, data)]);
          return true;
        });
        const fsyncs = store.metrics.fsyncs - fsyncsBefore;
        await store.close();
        recordAppendRun(context, `append 256 B, ${appenders} concurrent`, 'entries', run, fsyncs);
      });
    }

    await withTemporaryDirectory(TEMPORARY_PREFIX, 'raft', async (directory) => {
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
