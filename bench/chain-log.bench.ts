import { type ChainEntry, type ChainSyncPolicy, openChainLog } from '../src/chains/index.js';
import { SystemClock } from '../src/lib/index.js';
import { NodeDisk } from '../src/lib/node/index.js';
import { type BenchSuite, recordAppendRun, runConcurrentAppends, withTemporaryDirectory } from './harness.js';

const RECORD_PAYLOAD_BYTES = 256;
const APPENDER_COUNTS = [1, 16, 64] as const;
/** Each run appends for at most this long and at most this many records. */
const APPEND_RUN_TIME_MS = 2_000;
const APPEND_RUN_MAX_RECORDS = 300_000;
const INTERVAL_SYNC_MS = 100;
/** The log read back and reopened: 256 B records, about 30 MiB on disk. */
const READ_LOG_RECORDS = 100_000;
const READ_WRITE_BATCH_RECORDS = 1_000;
const READ_BUDGET_BYTES = 1024 * 1024;
const READ_RUNS = 3;
const MEBIBYTE = 1024 * 1024;
const TEMPORARY_PREFIX = 'meshos-chain-log-bench-';

function recordAt(offset: number, payload: Uint8Array): ChainEntry {
  return { offset, epoch: 1, kind: 'data', appendedAtMs: 0, payload };
}

/**
 * A chain replica's own disk work: appends of 256 B records each waiting on durable() (group
 * commit shares one fdatasync among the appenders waiting together), reads, and the open that
 * rebuilds the sparse index. NodeDisk writes through Node's thread pool, as the store's bench
 * does, so the two compare; it also lets the interval policy's timer run between appends.
 */
export const suite: BenchSuite = {
  name: 'chain-log',
  async run(context) {
    const disk = new NodeDisk();
    const clock = new SystemClock();
    const payload = new Uint8Array(RECORD_PAYLOAD_BYTES).fill(7);
    const policies: [string, ChainSyncPolicy, readonly number[]][] = [
      ['batch sync', { mode: 'batch' }, APPENDER_COUNTS],
      [`interval sync ${INTERVAL_SYNC_MS} ms`, { mode: 'interval', intervalMs: INTERVAL_SYNC_MS }, [1, 64]],
    ];
    for (const [policyName, sync, appenderCounts] of policies) {
      for (const appenders of appenderCounts) {
        await withTemporaryDirectory(TEMPORARY_PREFIX, 'chain', async (directory) => {
          const log = await openChainLog(disk, directory, { sync, retention: {}, clock });
          const fsyncsBefore = log.metrics.fsyncs;
          const run = await runConcurrentAppends(appenders, APPEND_RUN_TIME_MS, async () => {
            if (log.endOffset >= APPEND_RUN_MAX_RECORDS) return false;
            log.append([recordAt(log.endOffset, payload)]);
            await log.durable();
            return true;
          });
          const fsyncs = log.metrics.fsyncs - fsyncsBefore;
          await log.close();
          const label = `append 256 B + durable(), ${policyName}, ${appenders} concurrent`;
          recordAppendRun(context, label, 'records', run, fsyncs);
          context.record({
            metric: `${label}: records per fdatasync`,
            median: fsyncs === 0 ? Number.NaN : run.latenciesMs.length / fsyncs,
            unit: 'records',
            samples: fsyncs,
          });
        });
      }
    }

    await withTemporaryDirectory(TEMPORARY_PREFIX, 'chain', async (directory) => {
      const options = { sync: { mode: 'batch' } as const, retention: {}, clock };
      const log = await openChainLog(disk, directory, options);
      for (let first = 0; first < READ_LOG_RECORDS; first += READ_WRITE_BATCH_RECORDS) {
        log.append(
          Array.from({ length: READ_WRITE_BATCH_RECORDS }, (_, index) => recordAt(first + index, payload)),
        );
        await log.durable();
      }
      const logBytes = log.metrics.bytesWritten;
      const readTiming = await context.repeat(READ_RUNS, async () => {
        const beganMs = performance.now();
        let offset = 0;
        while (offset < log.endOffset) {
          const records = await log.read(offset, READ_LOG_RECORDS, READ_BUDGET_BYTES);
          offset = records.at(-1)!.offset + 1;
        }
        return (READ_LOG_RECORDS * RECORD_PAYLOAD_BYTES) / MEBIBYTE / ((performance.now() - beganMs) / 1000);
      });
      context.record({
        metric: `read ${READ_LOG_RECORDS} records of 256 B from disk, 1 MiB per read: payload MB/s`,
        median: readTiming.median,
        unit: 'MiB/s',
        samples: READ_RUNS,
      });
      const tailTiming = await context.repeat(READ_RUNS, async () => {
        const beganMs = performance.now();
        const reads = 2_000;
        for (let read = 0; read < reads; read++) await log.read((read * 7919) % READ_LOG_RECORDS, 1, 1);
        return ((performance.now() - beganMs) * 1000) / reads;
      });
      context.record({
        metric: 'read 1 record at a random offset (sparse index seek)',
        median: tailTiming.median,
        unit: 'µs',
        samples: READ_RUNS,
      });
      await log.close();
      const openTiming = await context.repeat(READ_RUNS, async () => {
        const beganMs = performance.now();
        const reopened = await openChainLog(disk, directory, options);
        const elapsedMs = performance.now() - beganMs;
        if (reopened.endOffset !== READ_LOG_RECORDS) throw new Error(`reopened at ${reopened.endOffset}`);
        await reopened.close();
        return elapsedMs;
      });
      context.record({
        metric: `open (check every checksum, rebuild the sparse index) of ${(logBytes / MEBIBYTE).toFixed(1)} MiB`,
        median: openTiming.median,
        p99: openTiming.p99,
        unit: 'ms',
        samples: READ_RUNS,
      });
    });
  },
};
