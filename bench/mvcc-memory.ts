import { encodeKvCommand, KvStateMachine } from '../src/kv/index.js';

/**
 * Heap bytes per stored revision of the key-value state machine: puts `--revisions` revisions
 * (default 200,000) cycling over `--keys` keys (default 10,000) with 256-byte values, nothing
 * compacted, and reports the heap growth after a full GC divided by the revisions stored.
 * Run: `node --expose-gc dist/bench/mvcc-memory.js [--revisions N] [--keys N] [--value-bytes N]`.
 */
const DEFAULT_REVISIONS = 200_000;
const DEFAULT_KEYS = 10_000;
const DEFAULT_VALUE_BYTES = 256;

function argument(name: string, fallback: number): number {
  const position = process.argv.indexOf(`--${name}`);
  const value = position < 0 ? fallback : Number(process.argv[position + 1]);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

function settledHeapBytes(): number {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with node --expose-gc');
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

const revisions = argument('revisions', DEFAULT_REVISIONS);
const keys = argument('keys', DEFAULT_KEYS);
const valueBytes = argument('value-bytes', DEFAULT_VALUE_BYTES);
const machine = new KvStateMachine();
const key = (index: number): Uint8Array => Buffer.from(`bench/put/${String(index).padStart(10, '0')}`);
let logIndex = 0;
const put = (index: number): void => {
  const value = Buffer.alloc(valueBytes, 0x61 + (index % 26));
  machine.apply(++logIndex, encodeKvCommand({ type: 'put', key: key(index % keys), value }));
};
for (let index = 0; index < keys; index++) put(index);
const before = settledHeapBytes();
const rssBefore = process.memoryUsage().rss;
for (let index = 0; index < revisions; index++) put(index);
const after = settledHeapBytes();
const rssAfter = process.memoryUsage().rss;
console.log(
  JSON.stringify({
    revisions,
    keys,
    valueBytes,
    heapBytesPerRevision: Math.round((after - before) / revisions),
    rssBytesPerRevision: Math.round((rssAfter - rssBefore) / revisions),
  }),
);
