import { constants, PerformanceObserver } from 'node:perf_hooks';
import { encodeKvCommand, KvStateMachine } from '../src/kv/index.js';

/**
 * Memory per stored revision of the key-value state machine: puts `--revisions` revisions
 * (default 200,000) cycling over `--keys` keys (default 10,000) with 256-byte values, nothing
 * compacted unless `--retain N` (then a compaction every `COMPACT_EVERY_PUTS` puts keeps the last N
 * revisions, as auto-compaction would). Reports, after full GCs, the growth of the V8 heap and of
 * ArrayBuffer memory per revision stored, what a forced full GC then costs (wall and CPU ms:
 * its cost follows the live objects it marks), and the collections V8 made by itself during the
 * puts (count and total pause by kind: what the store's own churn costs).
 * Run: `node --expose-gc dist/bench/mvcc-memory.js [--revisions N] [--keys N] [--value-bytes N] [--retain N]`.
 */
const DEFAULT_REVISIONS = 200_000;
const DEFAULT_KEYS = 10_000;
const DEFAULT_VALUE_BYTES = 256;
const COMPACT_EVERY_PUTS = 10_000;
const TIMED_COLLECTIONS = 5;

function argument(name: string, fallback: number): number {
  const position = process.argv.indexOf(`--${name}`);
  const value = position < 0 ? fallback : Number(process.argv[position + 1]);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer`);
  return value;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
}

function settledMemory(): { heap: number; arrayBuffers: number; rss: number } {
  collect();
  collect();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, arrayBuffers: usage.arrayBuffers, rss: usage.rss };
}

/** Median wall and CPU ms of a forced full GC, over `TIMED_COLLECTIONS` after a first. */
function fullGcMs(): { wallMs: number; cpuMs: number } {
  collect();
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let run = 0; run < TIMED_COLLECTIONS; run++) {
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    collect();
    walls.push(performance.now() - wallBefore);
    const cpu = process.cpuUsage(cpuBefore);
    cpus.push((cpu.user + cpu.system) / 1000);
  }
  const median = (values: number[]): number => values.sort((a, b) => a - b)[values.length >>> 1] as number;
  return { wallMs: Math.round(median(walls) * 10) / 10, cpuMs: Math.round(median(cpus) * 10) / 10 };
}

const revisions = argument('revisions', DEFAULT_REVISIONS);
const keys = argument('keys', DEFAULT_KEYS);
const valueBytes = argument('value-bytes', DEFAULT_VALUE_BYTES);
const retain = argument('retain', 0);
const machine = new KvStateMachine();
const key = (index: number): Uint8Array => Buffer.from(`bench/put/${String(index).padStart(10, '0')}`);
let logIndex = 0;
const put = (index: number): void => {
  const value = Buffer.alloc(valueBytes, 0x61 + (index % 26));
  machine.apply(++logIndex, encodeKvCommand({ type: 'put', key: key(index % keys), value }));
  if (retain > 0 && index % COMPACT_EVERY_PUTS === 0 && machine.revision - retain > machine.compactRevision) {
    machine.apply(++logIndex, encodeKvCommand({ type: 'compact', revision: machine.revision - retain }));
  }
};
/** Puts between two turns of the event loop while collections are counted (their entries come then). */
const PUTS_PER_TURN = 10_000;

/**
 * V8's own collections during `puts` puts (from `first`), by kind: count and total pause ms. The
 * puts yield to the event loop every `PUTS_PER_TURN`, when the observer receives the entries.
 */
async function collectionsDuring(
  first: number,
  puts: number,
): Promise<Record<string, { count: number; totalMs: number }>> {
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  const seen: Record<string, { count: number; totalMs: number }> = {};
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      const totals = seen[kind] ?? { count: 0, totalMs: 0 };
      totals.count++;
      totals.totalMs = Math.round((totals.totalMs + entry.duration) * 10) / 10;
      seen[kind] = totals;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  for (let index = first; index < first + puts; index++) {
    put(index);
    if (index % PUTS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
  observer.disconnect();
  return seen;
}

for (let index = 0; index < keys; index++) put(index);
const before = settledMemory();
const collections = await collectionsDuring(0, revisions);
const after = settledMemory();
const stored = machine.storedRecordCount - keys;
const perRevision = (bytes: number): number => Math.round(bytes / Math.max(1, stored));
console.log(
  JSON.stringify({
    revisions,
    keys,
    valueBytes,
    retain,
    storedRevisions: machine.storedRecordCount,
    heapBytesPerRevision: perRevision(after.heap - before.heap),
    arrayBufferBytesPerRevision: perRevision(after.arrayBuffers - before.arrayBuffers),
    rssBytesPerRevision: perRevision(after.rss - before.rss),
    heapUsedMb: Math.round(after.heap / 1e5) / 10,
    arrayBuffersMb: Math.round(after.arrayBuffers / 1e5) / 10,
    fullGc: fullGcMs(),
    collectionsDuringPuts: collections,
  }),
);
