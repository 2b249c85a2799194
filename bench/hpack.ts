import { loadavg } from 'node:os';
import { GCProfiler } from 'node:v8';
import hpack, { type HpackHeader } from 'hpack.js';
import { HpackDecoder } from '../src/api/http2/hpack-decoder.js';
import { runToExit } from './harness.js';
import {
  ETCDCTL_FIRST_BLOCKS,
  ETCDCTL_PERF_CONNECTION,
  GRPC_JS_CONNECTION,
} from './hpack-captured-blocks.js';

/**
 * HPACK decoding in process, MeshOS's `HpackDecoder` against `hpack.js` (what the client port
 * decoded with before), on the header blocks etcd's clients send: per workload, µs per block
 * (CPU time, median of alternating rounds) and JS heap bytes allocated per block (heap growth over
 * a batch that ran without a GC). A pass decodes one connection's blocks in order with a new
 * decoder, as a connection would.
 * Run: `node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 dist/bench/hpack.js [--rounds N]`.
 */
const DEFAULT_ROUNDS = 7;
const ROUND_MS = 300;
const SLICE_MS = 2;
/** Blocks per allocation batch: small enough that the batch fits in the young generation. */
const ALLOCATION_BATCH_BLOCKS = 2_000;
const TABLE_BYTES = 4_096;
const LIST_BYTES = 65_536;
const SYNTHESIZED_CALLS = 200;

interface Workload {
  readonly name: string;
  /** Each inner list is one connection's blocks, in order. */
  readonly connections: readonly (readonly Buffer[])[];
}

type Decode = (connection: readonly Buffer[]) => number;

function hex(blocks: readonly string[]): Buffer[] {
  return blocks.map((block) => Buffer.from(block, 'hex'));
}

/** grpc-go's request headers with a grpc-timeout that changes each call, encoded as Go does (Huffman, incremental indexing). */
function goCallsWithTimeouts(): Buffer[] {
  const compressor = hpack.compressor.create({ table: { maxSize: TABLE_BYTES } });
  const blocks: Buffer[] = [];
  for (let call = 0; call < SYNTHESIZED_CALLS; call++) {
    const headers: HpackHeader[] = [
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', call % 2 === 0 ? '/etcdserverpb.KV/Put' : '/etcdserverpb.KV/Range'],
      [':authority', '127.0.0.1:2379'],
      ['content-type', 'application/grpc'],
      ['user-agent', 'grpc-go/1.59.0'],
      ['te', 'trailers'],
      ['grpc-timeout', `${4_999_000 - call * 113}u`],
    ].map(([name, value]) => ({ name: name as string, value: value as string, huffman: true }));
    compressor.write(headers);
    blocks.push(compressor.read() ?? Buffer.alloc(0));
  }
  return blocks;
}

const WORKLOADS: readonly Workload[] = [
  {
    name: 'etcdctl first block (grpc-timeout)',
    connections: hex(ETCDCTL_FIRST_BLOCKS).map((block) => [block]),
  },
  { name: 'etcdctl check perf connection', connections: [hex(ETCDCTL_PERF_CONNECTION)] },
  { name: 'grpc-go calls, changing grpc-timeout', connections: [goCallsWithTimeouts()] },
  { name: 'grpc-js (etcd3) connection', connections: [hex(GRPC_JS_CONNECTION)] },
];

/** Both decoders hand each field to the same kind of sink, so the work after decoding is equal. */
let sink = 0;

const decodeWithOurs: Decode = (connection) => {
  const decoder = new HpackDecoder(TABLE_BYTES, LIST_BYTES);
  const field = (name: string, value: string): void => {
    sink += name.length + value.length;
  };
  for (const block of connection) decoder.decode(block, field);
  return connection.length;
};

const decodeWithHpackJs: Decode = (connection) => {
  const decompressor = hpack.decompressor.create({ table: { maxSize: TABLE_BYTES } });
  for (const block of connection) {
    decompressor.write(block);
    decompressor.execute();
    for (let header = decompressor.read(); header !== null; header = decompressor.read()) {
      sink += header.name.length + header.value.length;
    }
  }
  return connection.length;
};

function roundsArgument(): number {
  const position = process.argv.indexOf('--rounds');
  const value = position < 0 ? DEFAULT_ROUNDS : Number(process.argv[position + 1]);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error('--rounds must be a positive integer');
  return value;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
}

/**
 * CPU µs per block over one round of whole passes (CPU time, so other processes on a shared
 * machine do not count), in slices with a turn of the event loop between them (not counted):
 * hpack.js's streams queue a nextTick per write, which a server drains between socket reads, so
 * a slice stands for a burst of reads.
 */
async function timeRound(decode: Decode, workload: Workload): Promise<number> {
  let blocks = 0;
  let cpuMicros = 0;
  const roundEnd = performance.now() + ROUND_MS;
  while (performance.now() < roundEnd) {
    const sliceEnd = performance.now() + SLICE_MS;
    const cpuBefore = process.cpuUsage();
    do {
      for (const connection of workload.connections) blocks += decode(connection);
    } while (performance.now() < sliceEnd);
    const cpu = process.cpuUsage(cpuBefore);
    cpuMicros += cpu.user + cpu.system;
    await turn();
  }
  return cpuMicros / blocks;
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Heap bytes per block over a batch without a GC (retried when one happened anyway). */
async function allocatedPerBlock(decode: Decode, workload: Workload): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await turn();
    collect();
    const profiler = new GCProfiler();
    profiler.start();
    const before = process.memoryUsage().heapUsed;
    let blocks = 0;
    while (blocks < ALLOCATION_BATCH_BLOCKS) {
      for (const connection of workload.connections) blocks += decode(connection);
    }
    const after = process.memoryUsage().heapUsed;
    if (profiler.stop().statistics.length === 0) return (after - before) / blocks;
  }
  throw new Error(
    'every allocation batch saw a GC: run with --min-semi-space-size=64 --max-semi-space-size=64',
  );
}

function median(values: number[]): number {
  return values.sort((a, b) => a - b)[values.length >>> 1] as number;
}

async function main(): Promise<void> {
  const rounds = roundsArgument();
  const lines = [
    `HPACK decoding, CPU µs per block: median of ${rounds} alternating rounds of ${ROUND_MS} ms each; load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
    '',
    '| workload | octets/block | MeshOS µs/block | hpack.js µs/block | MeshOS B/block | hpack.js B/block |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const workload of WORKLOADS) {
    const blocks = workload.connections.flat();
    const octets = blocks.reduce((total, block) => total + block.length, 0) / blocks.length;
    // Warm both (optimized code) before measuring.
    await timeRound(decodeWithOurs, workload);
    await timeRound(decodeWithHpackJs, workload);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      ours.push(await timeRound(decodeWithOurs, workload));
      theirs.push(await timeRound(decodeWithHpackJs, workload));
    }
    const ourBytes = await allocatedPerBlock(decodeWithOurs, workload);
    const theirBytes = await allocatedPerBlock(decodeWithHpackJs, workload);
    lines.push(
      `| ${workload.name} | ${octets.toFixed(0)} | ${median(ours).toFixed(3)} | ${median(theirs).toFixed(3)} | ${ourBytes.toFixed(0)} | ${theirBytes.toFixed(0)} |`,
    );
  }
  console.log(lines.join('\n'));
  if (sink === 0) console.log('(no fields decoded)');
}

runToExit(main);
