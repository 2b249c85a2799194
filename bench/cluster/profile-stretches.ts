import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The longest stretches of busy main-thread work in a V8 `.cpuprofile` (`node --cpu-prof`), with
 * what ran in them. A stretch is a run of consecutive samples none of which is `(idle)`: one
 * uninterrupted hold of the event loop (a turn's callbacks back to back). Garbage collection
 * inside a stretch is counted apart, so a stretch can be ranked by its work without GC, the same
 * split the members' `ready` step report makes (docs/SERVER.md, long own steps outside GC).
 *
 * Wall time inside a stretch includes the main thread waiting for a core: V8 takes a sample
 * when the thread runs its signal handler, so a descheduled thread shows as one long gap
 * between two samples. Stretches are therefore ranked by their time with each gap capped at
 * `GAP_CAP_INTERVALS` sampling intervals (the median gap), close to the thread's CPU time, and
 * each also gives its wall time and its longest gap.
 *
 * A stretch is an upper bound of one event-loop stall: with callbacks pending, libuv polls with
 * a zero timeout and Node need not mark the thread idle between two turns, so one stretch can
 * hold several turns (the heaviest stacks say which callbacks).
 */

/** The parts of a V8 `.cpuprofile` this reads. */
export interface StretchProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

export interface StretchProfile {
  readonly nodes: readonly StretchProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
}

export interface StretchOptions {
  /** How many stretches to keep, longest (capped, without GC) first. */
  readonly top: number;
  /** How many stacks and functions to name per stretch. */
  readonly stacksPerStretch: number;
  /** Stretches whose capped time without GC is below this are not kept. */
  readonly minimumMs: number;
  /** Only stretches that start this many seconds after the profile's start or later (skips start-up). */
  readonly fromSeconds?: number;
  /** Only stretches that start before this many seconds after the profile's start (skips shutdown). */
  readonly toSeconds?: number;
}

export const DEFAULT_STRETCH_OPTIONS: StretchOptions = { top: 10, stacksPerStretch: 3, minimumMs: 20 };

export interface WeightedName {
  readonly name: string;
  readonly ms: number;
}

export interface BusyStretch {
  /** When the stretch started, on the profile's clock (µs, the monotonic clock `process.hrtime` reads). */
  readonly startMicroseconds: number;
  /** Offset from the profile's start, in seconds. */
  readonly offsetSeconds: number;
  readonly wallMs: number;
  /** Time in `(garbage collector)` samples inside the stretch. */
  readonly gcMs: number;
  /** `wallMs` less `gcMs`. */
  readonly withoutGcMs: number;
  /** Time without GC with each gap capped at `GAP_CAP_INTERVALS` intervals: what stretches are ranked by. */
  readonly cappedWithoutGcMs: number;
  readonly sampleCount: number;
  /** The longest time between two samples in the stretch (a long one is the thread descheduled). */
  readonly longestGapMs: number;
  /** Heaviest stacks (root first, MeshOS and named frames only), by time without GC. */
  readonly stacks: readonly WeightedName[];
  /** MeshOS functions by inclusive time without GC (a function counted once per sample). */
  readonly meshosFunctions: readonly WeightedName[];
}

const IDLE = '(idle)';
const GARBAGE_COLLECTOR = '(garbage collector)';
/** A gap between samples longer than this many sampling intervals is counted as this many. */
export const GAP_CAP_INTERVALS = 4;
/** Frames a stack shows at most, from the leaf up (the root end is the event loop's own). */
const MAXIMUM_STACK_FRAMES = 14;

/** `functionName file:line` with the path from `src/` or `node_modules/<pkg>` on. */
export function frameName(frame: StretchProfileNode['callFrame']): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const modules = frame.url.lastIndexOf('node_modules/');
  const source = frame.url.lastIndexOf('/src/');
  const bench = frame.url.lastIndexOf('/bench/');
  let file = frame.url;
  if (modules >= 0) file = frame.url.slice(modules + 'node_modules/'.length);
  else if (source >= 0) file = frame.url.slice(source + 1);
  else if (bench >= 0) file = frame.url.slice(bench + 1);
  return `${name} ${file.replace(/^file:\/\//, '')}:${frame.lineNumber + 1}`;
}

function isMeshos(frame: StretchProfileNode['callFrame']): boolean {
  return frame.url.includes('/src/') && !frame.url.includes('node_modules/');
}

/** Parent of each node, from the `children` lists. */
function parents(nodes: readonly StretchProfileNode[]): Map<number, number> {
  const parentOf = new Map<number, number>();
  for (const node of nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  return parentOf;
}

class StackNames {
  private readonly byId: Map<number, StretchProfileNode>;
  private readonly parentOf: Map<number, number>;
  private readonly stacks = new Map<number, string>();
  private readonly functions = new Map<number, readonly string[]>();

  constructor(nodes: readonly StretchProfileNode[]) {
    this.byId = new Map(nodes.map((node) => [node.id, node]));
    this.parentOf = parents(nodes);
  }

  node(id: number): StretchProfileNode | undefined {
    return this.byId.get(id);
  }

  /** Root-first stack of named frames, the anonymous and `(root)` ones left out. */
  stack(id: number): string {
    const known = this.stacks.get(id);
    if (known !== undefined) return known;
    const frames: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = this.parentOf.get(at)) {
      const frame = this.byId.get(at)?.callFrame;
      if (frame === undefined || frame.functionName === '(root)') continue;
      if (frame.functionName === '' && frames.length > 0) continue;
      if (frames.length < MAXIMUM_STACK_FRAMES) frames.push(frameName(frame));
    }
    const name = frames.reverse().join(' > ');
    this.stacks.set(id, name);
    return name;
  }

  /** The distinct MeshOS functions on the stack of `id`. */
  meshosFunctions(id: number): readonly string[] {
    const known = this.functions.get(id);
    if (known !== undefined) return known;
    const names = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = this.parentOf.get(at)) {
      const frame = this.byId.get(at)?.callFrame;
      if (frame !== undefined && isMeshos(frame)) names.add(frameName(frame));
    }
    const list = [...names];
    this.functions.set(id, list);
    return list;
  }
}

function heaviest(weights: Map<string, number>, count: number): WeightedName[] {
  return [...weights]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => ({ name, ms }));
}

interface OpenStretch {
  readonly firstIndex: number;
  readonly startMicroseconds: number;
  lastIndex: number;
  wallMicroseconds: number;
  gcMicroseconds: number;
  cappedWithoutGcMicroseconds: number;
  longestGapMicroseconds: number;
}

/** The median positive gap between samples: the sampling interval the profiler kept. */
export function samplingIntervalMicroseconds(deltas: readonly number[]): number {
  const positive = deltas.filter((delta) => delta > 0).sort((a, b) => a - b);
  return positive[Math.floor(positive.length / 2)] ?? 0;
}

/**
 * The stretches of busy samples in `profile`, longest without GC first. Sample `i` is charged
 * `timeDeltas[i]`, the time since the previous sample (as Chrome's profiler does).
 */
export function busyStretches(
  profile: StretchProfile,
  options: StretchOptions = DEFAULT_STRETCH_OPTIONS,
): BusyStretch[] {
  const names = new StackNames(profile.nodes);
  const capMicroseconds = GAP_CAP_INTERVALS * samplingIntervalMicroseconds(profile.timeDeltas);
  const closed: OpenStretch[] = [];
  let open: OpenStretch | undefined;
  let stampMicroseconds = profile.startTime;
  for (let index = 0; index < profile.samples.length; index++) {
    // Deltas are occasionally negative (samples delivered out of order); such a sample adds nothing.
    const deltaMicroseconds = Math.max(0, profile.timeDeltas[index] ?? 0);
    stampMicroseconds += deltaMicroseconds;
    const frame = names.node(profile.samples[index] ?? -1)?.callFrame;
    if (frame === undefined) continue;
    if (frame.functionName === IDLE) {
      if (open !== undefined) closed.push(open);
      open = undefined;
      continue;
    }
    if (open === undefined) {
      open = {
        firstIndex: index,
        startMicroseconds: stampMicroseconds - deltaMicroseconds,
        lastIndex: index,
        wallMicroseconds: 0,
        gcMicroseconds: 0,
        cappedWithoutGcMicroseconds: 0,
        longestGapMicroseconds: 0,
      };
    }
    open.lastIndex = index;
    open.wallMicroseconds += deltaMicroseconds;
    if (frame.functionName === GARBAGE_COLLECTOR) open.gcMicroseconds += deltaMicroseconds;
    else open.cappedWithoutGcMicroseconds += Math.min(deltaMicroseconds, capMicroseconds);
    open.longestGapMicroseconds = Math.max(open.longestGapMicroseconds, deltaMicroseconds);
  }
  if (open !== undefined) closed.push(open);
  const minimumMicroseconds = options.minimumMs * 1000;
  const fromMicroseconds = profile.startTime + (options.fromSeconds ?? 0) * 1e6;
  const toMicroseconds = profile.startTime + (options.toSeconds ?? Number.POSITIVE_INFINITY) * 1e6;
  return closed
    .filter(
      (stretch) =>
        stretch.cappedWithoutGcMicroseconds >= minimumMicroseconds &&
        stretch.startMicroseconds >= fromMicroseconds &&
        stretch.startMicroseconds < toMicroseconds,
    )
    .sort((a, b) => b.cappedWithoutGcMicroseconds - a.cappedWithoutGcMicroseconds)
    .slice(0, options.top)
    .map((stretch) => describe(profile, names, stretch, options));
}

function describe(
  profile: StretchProfile,
  names: StackNames,
  stretch: OpenStretch,
  options: StretchOptions,
): BusyStretch {
  const stacks = new Map<string, number>();
  const functions = new Map<string, number>();
  for (let index = stretch.firstIndex; index <= stretch.lastIndex; index++) {
    const id = profile.samples[index] ?? -1;
    const frame = names.node(id)?.callFrame;
    if (frame === undefined || frame.functionName === GARBAGE_COLLECTOR) continue;
    const ms = Math.max(0, profile.timeDeltas[index] ?? 0) / 1000;
    const stack = names.stack(id);
    stacks.set(stack, (stacks.get(stack) ?? 0) + ms);
    for (const name of names.meshosFunctions(id)) functions.set(name, (functions.get(name) ?? 0) + ms);
  }
  const wallMs = stretch.wallMicroseconds / 1000;
  const gcMs = stretch.gcMicroseconds / 1000;
  return {
    startMicroseconds: stretch.startMicroseconds,
    offsetSeconds: (stretch.startMicroseconds - profile.startTime) / 1e6,
    wallMs,
    gcMs,
    withoutGcMs: wallMs - gcMs,
    cappedWithoutGcMs: stretch.cappedWithoutGcMicroseconds / 1000,
    sampleCount: stretch.lastIndex - stretch.firstIndex + 1,
    longestGapMs: stretch.longestGapMicroseconds / 1000,
    stacks: heaviest(stacks, options.stacksPerStretch),
    meshosFunctions: heaviest(functions, options.stacksPerStretch * 4),
  };
}

export async function busyStretchesOfFile(file: string, options?: StretchOptions): Promise<BusyStretch[]> {
  return busyStretches(JSON.parse(await readFile(file, 'utf8')) as StretchProfile, options);
}

/** Markdown: one heading per stretch with its figures, its MeshOS functions and its heaviest stacks. */
export function formatStretches(title: string, stretches: readonly BusyStretch[]): string {
  const lines = [`### ${title}`, ''];
  if (stretches.length === 0) lines.push('No busy stretch passed the minimum.', '');
  for (const [rank, stretch] of stretches.entries()) {
    lines.push(
      `**${rank + 1}. ${stretch.cappedWithoutGcMs.toFixed(1)} ms without GC, gaps capped** at +${stretch.offsetSeconds.toFixed(3)} s: ` +
        `wall ${stretch.wallMs.toFixed(1)} ms (${stretch.withoutGcMs.toFixed(1)} without GC), GC ${stretch.gcMs.toFixed(1)} ms, ${stretch.sampleCount} samples, ` +
        `longest gap ${stretch.longestGapMs.toFixed(1)} ms`,
      '',
      '| MeshOS function (inclusive, without GC) | ms |',
      '| --- | ---: |',
      ...stretch.meshosFunctions.map((entry) => `| \`${entry.name}\` | ${entry.ms.toFixed(1)} |`),
      '',
      ...stretch.stacks.map((entry) => `- ${entry.ms.toFixed(1)} ms: \`${entry.name}\``),
      '',
    );
  }
  return lines.join('\n');
}

/**
 * `node dist/bench/cluster/profile-stretches.js [--top N] [--min-ms M] [--stacks K] [--from-s S]
 * [--to-s S] FILE.cpuprofile...`: prints the longest busy stretches of each profile (between S
 * seconds after its start, to leave out start-up and shutdown). See docs/BENCHMARKS.md ("Finding what a
 * long step is") for how to profile the saturation bench's members.
 */
async function main(argv: readonly string[]): Promise<void> {
  let options = DEFAULT_STRETCH_OPTIONS;
  const files: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] ?? '';
    if (argument === '--top') options = { ...options, top: Number(argv[++index]) };
    else if (argument === '--min-ms') options = { ...options, minimumMs: Number(argv[++index]) };
    else if (argument === '--stacks') options = { ...options, stacksPerStretch: Number(argv[++index]) };
    else if (argument === '--from-s') options = { ...options, fromSeconds: Number(argv[++index]) };
    else if (argument === '--to-s') options = { ...options, toSeconds: Number(argv[++index]) };
    else files.push(argument);
  }
  if (files.length === 0) {
    console.error(
      'usage: profile-stretches [--top N] [--min-ms M] [--stacks K] [--from-s S] [--to-s S] FILE.cpuprofile...',
    );
    process.exitCode = 2;
    return;
  }
  for (const file of files) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as StretchProfile;
    const intervalMs = samplingIntervalMicroseconds(profile.timeDeltas) / 1000;
    const title = `${file} (sampling interval ${intervalMs.toFixed(2)} ms)`;
    console.log(formatStretches(title, busyStretches(profile, options)));
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await main(process.argv.slice(2));
}
