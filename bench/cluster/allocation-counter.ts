/**
 * Allocation counts of one process, for `allocations.ts` only: loaded with `node --import` into the
 * members, it counts between two SIGUSR2s
 * - every buffer made through JavaScript that gets an ArrayBuffer of its own (`new ArrayBuffer`,
 *   `new Uint8Array(n)` and its kin, a typed array's `slice`, `TextEncoder.encode`, `Buffer.alloc`,
 *   `Buffer.allocUnsafe` of 4 KiB or more) and every slice of Node's shared pool (`Buffer.allocUnsafe`
 *   and the like below 4 KiB: one 8 KiB ArrayBuffer per about 8 KiB), with a sample of their call
 *   sites (one stack in `STACK_SAMPLE_EVERY`);
 * - the JS heap bytes allocated (`v8.GCProfiler`: used heap before each GC less after the one
 *   before), the GCs by kind, and a sampling heap profile that keeps collected objects, summed by
 *   the innermost MeshOS frame.
 * It writes `$MESHOS_ALLOCATION_DIR/<pid>.json` at the second signal. What Node makes in C++
 * (socket reads, HTTP/2 DATA chunks, TLS records) is not seen: only what JavaScript asks for.
 * Nothing of it runs unless a process is started with it.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import * as path from 'node:path';
import { GCProfiler } from 'node:v8';
import {
  ALLOCATION_DIRECTORY_VARIABLE,
  type AllocationReport,
  COUNTER_SITE,
  STACK_SAMPLE_EVERY,
} from './allocation-report.js';

const HEAP_SAMPLING_INTERVAL_BYTES = 4096;
/** Frames of a site key (innermost first, after this file's own). */
const SITE_FRAMES = 4;

/** Counts of one kind of allocation. */
interface KindCounts {
  count: number;
  bytes: number;
  sampledSites: Map<string, number>;
}

const ownKinds = new Map<string, KindCounts>();
const pooled: KindCounts = { count: 0, bytes: 0, sampledSites: new Map() };
let counting = false;
/** Nested calls (Buffer.concat calling Buffer.allocUnsafe) count once, at the outer one. */
let depth = 0;
let sequence = 0;

function site(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 20;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stack
    .split('\n')
    .slice(1)
    .map((line) => line.trim().replace(/^at /, ''))
    .filter((line) => !line.includes('allocation-counter.js'))
    .slice(0, SITE_FRAMES)
    .map(shortFrame);
  return frames.join(' < ');
}

function shortFrame(frame: string): string {
  return frame.replace(/file:\/\/\S*\/dist\//, '').replace(/\(\S*node_modules\//, '(');
}

function note(target: KindCounts, bytes: number): void {
  target.count++;
  target.bytes += bytes;
  if (++sequence % STACK_SAMPLE_EVERY !== 0) return;
  const key = site();
  target.sampledSites.set(key, (target.sampledSites.get(key) ?? 0) + 1);
}

function own(kind: string, bytes: number): void {
  if (!counting || depth > 0) return;
  let counts = ownKinds.get(kind);
  if (counts === undefined) {
    counts = { count: 0, bytes: 0, sampledSites: new Map() };
    ownKinds.set(kind, counts);
  }
  note(counts, bytes);
}

/** A slice of Node's pool shares its (larger) ArrayBuffer; anything else got one of its own. */
function pooledOrOwn(kind: string, made: Uint8Array): void {
  if (!counting || depth > 0) return;
  if (made.buffer.byteLength > made.byteLength) note(pooled, made.byteLength);
  else own(kind, made.byteLength);
}

/** Runs `call` with nested counting off. */
function nested<T>(call: () => T): T {
  depth++;
  try {
    return call();
  } finally {
    depth--;
  }
}

const globals = globalThis as unknown as Record<string, unknown>;

/** A typed array constructed from a length or from values gets a buffer of its own; from a buffer, none. */
function wrapTypedArray(name: string): void {
  const original = globals[name] as new (...args: unknown[]) => ArrayBufferView;
  globals[name] = new Proxy(original, {
    construct(target, args, newTarget) {
      const made = nested(() => Reflect.construct(target, args, newTarget) as ArrayBufferView);
      const first = args[0];
      const ownBuffer = !(first instanceof ArrayBuffer) && !(first instanceof SharedArrayBuffer);
      if (ownBuffer) own(`new ${name}`, made.byteLength);
      return made;
    },
  });
}

for (const name of [
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]) {
  wrapTypedArray(name);
}

globals.ArrayBuffer = new Proxy(ArrayBuffer, {
  construct(target, args, newTarget) {
    const made = Reflect.construct(target, args, newTarget) as ArrayBuffer;
    own('new ArrayBuffer', made.byteLength);
    return made;
  },
});

const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as {
  slice(this: ArrayBufferView, ...args: unknown[]): ArrayBufferView;
};
const originalSlice = typedArrayPrototype.slice;
typedArrayPrototype.slice = function slice(this: ArrayBufferView, ...args: unknown[]): ArrayBufferView {
  const made = nested(() => originalSlice.apply(this, args));
  own('typed array slice', made.byteLength);
  return made;
};

const encoderPrototype = TextEncoder.prototype as unknown as { encode(input?: string): Uint8Array };
const originalEncode = encoderPrototype.encode;
encoderPrototype.encode = function encode(this: unknown, input?: string): Uint8Array {
  const made = nested(() => originalEncode.call(this, input));
  own('TextEncoder.encode', made.byteLength);
  return made;
};

type BufferFactory = (...args: unknown[]) => Buffer;
const bufferStatics = Buffer as unknown as Record<string, BufferFactory>;

/** `pool`: the factory may serve from Node's pool (below 4 KiB); otherwise every call makes its own buffer. */
function wrapBufferFactory(name: string, pool: boolean): void {
  const original = bufferStatics[name]!;
  bufferStatics[name] = function wrapped(this: unknown, ...args: unknown[]): Buffer {
    const made = nested(() => original.apply(this, args));
    // Buffer.from(arrayBuffer, ...) is a view, not an allocation.
    if (name === 'from' && (args[0] instanceof ArrayBuffer || args[0] instanceof SharedArrayBuffer))
      return made;
    if (pool) pooledOrOwn(`Buffer.${name}`, made);
    else own(`Buffer.${name}`, made.byteLength);
    return made;
  };
}

wrapBufferFactory('alloc', false);
wrapBufferFactory('allocUnsafeSlow', false);
wrapBufferFactory('allocUnsafe', true);
wrapBufferFactory('from', true);
wrapBufferFactory('concat', true);

const session = new Session();
session.connect();
let profiler: GCProfiler | undefined;
let startedAtMs = 0;
let heapUsedAtStart = 0;

function post<T>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T)));
  });
}

async function start(): Promise<void> {
  ownKinds.clear();
  pooled.count = 0;
  pooled.bytes = 0;
  pooled.sampledSites.clear();
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', {
    samplingInterval: HEAP_SAMPLING_INTERVAL_BYTES,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  heapUsedAtStart = process.memoryUsage().heapUsed;
  profiler = new GCProfiler();
  profiler.start();
  startedAtMs = performance.now();
  counting = true;
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

interface GcStatistic {
  gcType: string;
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number } };
}

function heapSitesOf(head: ProfileNode): Map<string, number> {
  const sites = new Map<string, number>();
  const walk = (node: ProfileNode, inner: string | undefined, packageName: string | undefined): void => {
    const { url, functionName, lineNumber } = node.callFrame;
    let ownSite = inner;
    let ownPackage = packageName;
    // The counter's own stacks and bookkeeping, whatever called it.
    if (inner === COUNTER_SITE || url.includes('allocation-counter')) {
      ownSite = COUNTER_SITE;
    } else if (url.includes('/dist/src/')) {
      ownSite = `${functionName || '(anonymous)'} (${url.replace(/^.*\/dist\//, '')}:${lineNumber + 1})`;
    } else if (url.includes('node_modules/')) {
      ownPackage ??= url
        .replace(/^.*node_modules\//, '')
        .split('/')
        .slice(0, 2)
        .join('/');
    }
    if (node.selfSize > 0) {
      const key =
        ownSite ??
        (ownPackage !== undefined ? `(no MeshOS frame: ${ownPackage})` : '(no MeshOS frame: node)');
      sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, ownSite, ownPackage);
  };
  walk(head, undefined, undefined);
  return sites;
}

function sorted(sites: Map<string, number>, scale: number): Array<{ site: string; count: number }> {
  return [...sites.entries()]
    .map(([key, count]) => ({ site: key, count: count * scale }))
    .sort((left, right) => right.count - left.count);
}

async function stop(): Promise<void> {
  counting = false;
  const durationMs = performance.now() - startedAtMs;
  const gcData = profiler?.stop() as unknown as { statistics: GcStatistic[] } | undefined;
  profiler = undefined;
  const heapUsedNow = process.memoryUsage().heapUsed;
  let heapAllocatedBytes = 0;
  let usedAfterPrevious = heapUsedAtStart;
  const gcs: Record<string, number> = {};
  for (const statistic of gcData?.statistics ?? []) {
    heapAllocatedBytes += statistic.beforeGC.heapStatistics.usedHeapSize - usedAfterPrevious;
    usedAfterPrevious = statistic.afterGC.heapStatistics.usedHeapSize;
    gcs[statistic.gcType] = (gcs[statistic.gcType] ?? 0) + 1;
  }
  heapAllocatedBytes += heapUsedNow - usedAfterPrevious;
  const { profile } = await post<{ profile: { head: ProfileNode } }>('HeapProfiler.stopSampling');
  const ownSites = new Map<string, number>();
  for (const counts of ownKinds.values())
    for (const [key, count] of counts.sampledSites) ownSites.set(key, (ownSites.get(key) ?? 0) + count);
  const report: AllocationReport = {
    pid: process.pid,
    durationMs,
    ownBuffers: Object.fromEntries(
      [...ownKinds.entries()].map(([kind, counts]) => [kind, { count: counts.count, bytes: counts.bytes }]),
    ),
    pooledSlices: { count: pooled.count, bytes: pooled.bytes },
    ownBufferSites: sorted(ownSites, STACK_SAMPLE_EVERY),
    pooledSliceSites: sorted(pooled.sampledSites, STACK_SAMPLE_EVERY),
    heapAllocatedBytes,
    gcs,
    heapSites: [...heapSitesOf(profile.head).entries()]
      .map(([key, bytes]) => ({ site: key, bytes }))
      .sort((left, right) => right.bytes - left.bytes),
  };
  const directory = process.env[ALLOCATION_DIRECTORY_VARIABLE];
  if (directory !== undefined) {
    writeFileSync(path.join(directory, `${process.pid}.json`), JSON.stringify(report));
  }
}

process.on('SIGUSR2', () => {
  (counting ? stop() : start()).catch((error: unknown) => {
    console.error('allocation counter:', error);
  });
});
