import { loadavg } from 'node:os';
import { GCProfiler, getHeapSpaceStatistics } from 'node:v8';
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
 * decoded with before), on the header blocks etcd's clients send. Per workload: CPU µs per block
 * (median of alternating rounds; CPU time, so other processes on a shared machine do not count)
 * and bytes allocated per block (young-generation growth over batches that ran without a GC).
 * A connection's first block (new decoder, every string literal) is one workload; the others are
 * a long-lived connection's later blocks, its opening blocks decoded beforehand and not counted.
 * Run: `node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 dist/bench/hpack.js [--rounds N]`.
 */
const DEFAULT_ROUNDS = 7;
const ROUND_MS = 300;
const SLICE_MS = 2;
/** Blocks per allocation batch: small enough that the batch fits in the young generation. */
const ALLOCATION_BATCH_BLOCKS = 5_000;
const ALLOCATION_BATCHES = 3;
const TABLE_BYTES = 4_096;
/** Every entry takes at least 32 octets (RFC 7541 4.1). */
const TABLE_ENTRIES_MAX = TABLE_BYTES / 32;
const LIST_BYTES = 65_536;
/** Blocks of a long-lived connection in a steady workload, before it starts over. */
const STEADY_BLOCKS = 20_000;

interface Workload {
  readonly name: string;
  /** Decoded on a new connection before the measured blocks, not counted. */
  readonly opening: readonly Buffer[];
  /** Decoded in order on that connection; a new connection (and its opening) when they run out. */
  readonly measured: readonly Buffer[];
  /** Each measured block on a connection of its own (its making counted). */
  readonly connectionPerBlock: boolean;
}

/** One connection's decoder: returns how many fields a block held. */
type Connection = (block: Buffer) => number;
type Decoder = () => Connection;

function hex(blocks: readonly string[]): Buffer[] {
  return blocks.map((block) => Buffer.from(block, 'hex'));
}

/** `blocks` again and again up to `count`: only for blocks that leave the dynamic table alone. */
function repeated(blocks: readonly Buffer[], count: number): Buffer[] {
  return Array.from({ length: count }, (_, index) => blocks[index % blocks.length] as Buffer);
}

/**
 * grpc-go's request headers with a grpc-timeout that changes each call, encoded as Go does:
 * Huffman, incremental indexing, the whole dynamic table searched for a match. One path: with
 * two, hpack.js's compressor would miss the older `:path` entry (it stops at the newest entry of
 * a name that is also in the static table) and send it again, which Go's does not.
 */
function goCallsWithTimeouts(): Buffer[] {
  const compressor = hpack.compressor.create({
    table: { maxSize: TABLE_BYTES, lookupDepth: TABLE_ENTRIES_MAX },
  });
  const blocks: Buffer[] = [];
  for (let call = 0; call <= STEADY_BLOCKS; call++) {
    const headers: HpackHeader[] = [
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/etcdserverpb.KV/Range'],
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

function workloads(): Workload[] {
  const perf = hex(ETCDCTL_PERF_CONNECTION);
  const grpcJs = hex(GRPC_JS_CONNECTION);
  const go = goCallsWithTimeouts();
  return [
    {
      name: 'etcdctl: a connection’s first block (grpc-timeout)',
      opening: [],
      measured: hex(ETCDCTL_FIRST_BLOCKS),
      connectionPerBlock: true,
    },
    // After its first block, every block of these connections leaves the table alone.
    {
      name: 'etcdctl check perf: later blocks (all indexed)',
      opening: perf.slice(0, 1),
      measured: repeated(perf.slice(1), STEADY_BLOCKS),
      connectionPerBlock: false,
    },
    {
      name: 'grpc-go: later blocks, grpc-timeout changing',
      opening: go.slice(0, 1),
      measured: go.slice(1),
      connectionPerBlock: false,
    },
    {
      name: 'grpc-js (etcd3): later blocks (`:path` literal)',
      opening: grpcJs.slice(0, 1),
      measured: repeated(grpcJs.slice(1), STEADY_BLOCKS),
      connectionPerBlock: false,
    },
  ];
}

/**
 * Both decoders hand each field to the same sink, so the work after decoding is equal. Kept
 * within a small integer: a sum past 2^30 would be a heap number, allocated on every field.
 */
let sink = 0;

function field(name: string, value: string): void {
  sink = (sink + name.length + value.length) & 0x3fff_ffff;
}

const ours: Decoder = () => {
  const decoder = new HpackDecoder(TABLE_BYTES, LIST_BYTES);
  return (block) => {
    decoder.decode(block, field);
    return 1;
  };
};

const hpackJs: Decoder = () => {
  const decompressor = hpack.decompressor.create({ table: { maxSize: TABLE_BYTES } });
  return (block) => {
    decompressor.write(block);
    decompressor.execute();
    for (let header = decompressor.read(); header !== null; header = decompressor.read()) {
      field(header.name, header.value);
    }
    return 1;
  };
};

/** Walks a workload's measured blocks, opening connections as it needs them (untimed). */
class BlockFeed {
  private connection: Connection | undefined;
  private next = 0;

  constructor(
    private readonly decoder: Decoder,
    private readonly workload: Workload,
  ) {}

  /** Opens a new connection (not counted) unless `blocks` more remain on the current one. */
  prepare(blocks: number): void {
    if (this.workload.connectionPerBlock) return;
    if (this.connection !== undefined && this.next + blocks <= this.workload.measured.length) return;
    this.connection = this.decoder();
    for (const block of this.workload.opening) this.connection(block);
    this.next = 0;
  }

  /** Decodes `count` measured blocks; `prepare(count)` first. */
  decode(count: number): void {
    const measured = this.workload.measured;
    if (this.workload.connectionPerBlock) {
      for (let decoded = 0; decoded < count; decoded++) {
        this.decoder()(measured[this.next] as Buffer);
        this.next = (this.next + 1) % measured.length;
      }
      return;
    }
    const connection = this.connection as Connection;
    const end = this.next + count;
    for (let index = this.next; index < end; index++) connection(measured[index] as Buffer);
    this.next = end;
  }
}

const BLOCKS_BETWEEN_CLOCK_READS = 64;
/** A slice stops here even if its time is not up, so a connection's blocks cannot run out mid-slice. */
const SLICE_BLOCKS_MAX = 64 * BLOCKS_BETWEEN_CLOCK_READS;

/**
 * CPU µs per block over one round, in slices with a turn of the event loop between them (not
 * counted): hpack.js's streams queue a nextTick per write, which a server drains between socket
 * reads, so a slice stands for a burst of reads.
 */
async function timeRound(feed: BlockFeed): Promise<number> {
  let blocks = 0;
  let cpuMicros = 0;
  const roundEnd = performance.now() + ROUND_MS;
  while (performance.now() < roundEnd) {
    feed.prepare(SLICE_BLOCKS_MAX);
    const sliceEnd = performance.now() + SLICE_MS;
    const cpuBefore = process.cpuUsage();
    let sliceBlocks = 0;
    do {
      feed.decode(BLOCKS_BETWEEN_CLOCK_READS);
      sliceBlocks += BLOCKS_BETWEEN_CLOCK_READS;
    } while (sliceBlocks < SLICE_BLOCKS_MAX && performance.now() < sliceEnd);
    const cpu = process.cpuUsage(cpuBefore);
    cpuMicros += cpu.user + cpu.system;
    blocks += sliceBlocks;
    await turn();
  }
  return cpuMicros / blocks;
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
}

/** Bytes in the young generation: where every new object starts. */
function youngBytes(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name.startsWith('new_')) bytes += space.space_used_size;
  }
  return bytes;
}

/**
 * Bytes allocated per block: the young generation's growth over a batch without a GC (code and
 * feedback that V8 makes meanwhile go elsewhere), median of `ALLOCATION_BATCHES`.
 */
async function allocatedPerBlock(feed: BlockFeed): Promise<number> {
  const batches: number[] = [];
  for (let attempt = 0; batches.length < ALLOCATION_BATCHES && attempt < 3 * ALLOCATION_BATCHES; attempt++) {
    await turn();
    feed.prepare(ALLOCATION_BATCH_BLOCKS);
    collect();
    const profiler = new GCProfiler();
    profiler.start();
    const before = youngBytes();
    feed.decode(ALLOCATION_BATCH_BLOCKS);
    const after = youngBytes();
    if (profiler.stop().statistics.length === 0) batches.push((after - before) / ALLOCATION_BATCH_BLOCKS);
  }
  if (batches.length < ALLOCATION_BATCHES) {
    throw new Error(
      'allocation batches kept seeing GCs: run with --min-semi-space-size=64 --max-semi-space-size=64',
    );
  }
  return median(batches);
}

function median(values: number[]): number {
  return values.sort((a, b) => a - b)[values.length >>> 1] as number;
}

function roundsArgument(): number {
  const position = process.argv.indexOf('--rounds');
  const value = position < 0 ? DEFAULT_ROUNDS : Number(process.argv[position + 1]);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error('--rounds must be a positive integer');
  return value;
}

async function main(): Promise<void> {
  const rounds = roundsArgument();
  const lines = [
    `HPACK decoding: CPU µs per block, median of ${rounds} alternating rounds of ${ROUND_MS} ms; load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
    '',
    '| workload | octets/block | MeshOS µs/block | hpack.js µs/block | MeshOS B/block | hpack.js B/block |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const workload of workloads()) {
    const octets =
      workload.measured.reduce((total, block) => total + block.length, 0) / workload.measured.length;
    const ourFeed = new BlockFeed(ours, workload);
    const theirFeed = new BlockFeed(hpackJs, workload);
    // Warm both (optimized code) before measuring.
    await timeRound(ourFeed);
    await timeRound(theirFeed);
    const ourMicros: number[] = [];
    const theirMicros: number[] = [];
    for (let round = 0; round < rounds; round++) {
      ourMicros.push(await timeRound(ourFeed));
      theirMicros.push(await timeRound(theirFeed));
    }
    const ourBytes = await allocatedPerBlock(ourFeed);
    const theirBytes = await allocatedPerBlock(theirFeed);
    lines.push(
      `| ${workload.name} | ${octets.toFixed(0)} | ${median(ourMicros).toFixed(3)} | ${median(theirMicros).toFixed(3)} | ${ourBytes.toFixed(0)} | ${theirBytes.toFixed(0)} |`,
    );
  }
  console.log(lines.join('\n'));
  if (sink === 0) console.log('(no fields decoded)');
}

runToExit(main);
