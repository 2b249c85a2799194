import { closeSync, fdatasyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { SystemClock } from '../src/lib/index.js';
import { NodeDisk } from '../src/lib/node/index.js';
import {
  BACKGROUND_SYNC_BYTES,
  BackgroundFileWriter,
  createStoreMetrics,
  StoreDirectory,
} from '../src/store/index.js';
import { percentile } from './harness.js';

/**
 * What saving a large snapshot does to the write-ahead log's fdatasyncs on the same file system:
 * a thread writes 330-byte records and fdatasyncs each (as a loaded member's log does) while the
 * main thread writes a snapshot-sized file in 512 KiB parts through `BackgroundFileWriter`,
 * synced once at the end or every `BACKGROUND_SYNC_BYTES`; the log's sync latencies during the
 * save are reported for each, in alternating rounds.
 * Run: `node dist/bench/background-sync.js [--megabytes 200] [--rounds 2] [--directory DIR]`.
 */
const RECORD_BYTES = 330;
const LOG_FILE_BYTES = 64 * 1024 * 1024;
const PART_BYTES = 512 * 1024;
const SYNCS_PER_TURN = 20;

interface LogThreadData {
  readonly file: string;
}

/** The log's thread: write and fdatasync records until told to stop, then post the latencies. */
function runLogThread({ file }: LogThreadData): void {
  const descriptor = openSync(file, 'w');
  ftruncateSync(descriptor, LOG_FILE_BYTES);
  const record = Buffer.alloc(RECORD_BYTES, 1);
  const latenciesMs: number[] = [];
  let offset = 0;
  let stopping = false;
  parentPort?.once('message', () => {
    stopping = true;
  });
  const turn = (): void => {
    for (let sync = 0; sync < SYNCS_PER_TURN && !stopping; sync++) {
      const startedMs = performance.now();
      writeSync(descriptor, record, 0, RECORD_BYTES, offset % LOG_FILE_BYTES);
      offset += RECORD_BYTES;
      fdatasyncSync(descriptor);
      latenciesMs.push(performance.now() - startedMs);
    }
    if (!stopping) {
      setImmediate(turn);
      return;
    }
    closeSync(descriptor);
    parentPort?.postMessage(latenciesMs);
  };
  parentPort?.postMessage('syncing');
  turn();
}

async function saveWhileLogging(directory: StoreDirectory, megabytes: number, syncEveryBytes: number) {
  const log = new Worker(new URL(import.meta.url), {
    workerData: { file: directory.pathOf('log') } satisfies LogThreadData,
  });
  // The thread says when it is syncing; its latencies come in its second message.
  const latencies = new Promise<number[]>((resolve) =>
    log.once('message', () => log.once('message', resolve)),
  );
  await new Promise<void>((resolve) => log.once('message', () => resolve()));
  const startedMs = performance.now();
  const file = await directory.disk.open(directory.pathOf('snapshot'), 'create', { background: true });
  const writer = new BackgroundFileWriter(directory, file, syncEveryBytes);
  const part = new Uint8Array(PART_BYTES).fill(7);
  for (let written = 0; written < megabytes * 1024 * 1024; written += PART_BYTES) await writer.append(part);
  await writer.finish();
  await file.close();
  const saveMs = performance.now() - startedMs;
  log.postMessage('stop');
  const sorted = (await latencies).sort((left, right) => left - right);
  await log.terminate();
  await directory.remove('snapshot');
  return { saveMs, sorted };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      megabytes: { type: 'string', default: '200' },
      rounds: { type: 'string', default: '2' },
      directory: { type: 'string' },
    },
  });
  const megabytes = Number(values.megabytes);
  const root = await mkdtemp(path.join(values.directory ?? os.tmpdir(), 'meshos-background-sync-'));
  const directory = new StoreDirectory(new NodeDisk(), root, new SystemClock(), createStoreMetrics());
  try {
    for (let round = 1; round <= Number(values.rounds); round++) {
      for (const [label, every] of [
        ['synced at the end', Number.POSITIVE_INFINITY],
        [`synced every ${BACKGROUND_SYNC_BYTES / 1024 / 1024} MiB`, BACKGROUND_SYNC_BYTES],
      ] as const) {
        const { saveMs, sorted } = await saveWhileLogging(directory, megabytes, every);
        console.log(
          `round ${round}, ${megabytes} MB ${label}: saved in ${saveMs.toFixed(0)} ms; log fdatasyncs ${sorted.length}: p50 ${percentile(sorted, 0.5).toFixed(2)}, p99 ${percentile(sorted, 0.99).toFixed(2)}, p99.9 ${percentile(sorted, 0.999).toFixed(2)}, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`,
        );
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else runLogThread(workerData as LogThreadData);
