import { readFile } from 'node:fs/promises';

/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) that the summary reads. */
interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface SelfTimeEntry {
  readonly name: string;
  readonly selfMs: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Time in samples that were not idle, garbage collection included. */
  readonly busyMs: number;
  readonly functions: readonly SelfTimeEntry[];
  readonly areas: readonly SelfTimeEntry[];
}

/** Short location: the path from `src/`, `node_modules/<pkg>` or `node:` on, with the line. */
function location(url: string, line: number): string {
  if (url === '') return '';
  const modules = url.lastIndexOf('node_modules/');
  const source = url.lastIndexOf('/src/');
  const short = modules >= 0 ? url.slice(modules + 13) : source >= 0 ? url.slice(source + 1) : url;
  return `${short.replace(/^file:\/\//, '')}:${line + 1}`;
}

/** Which part of the system a frame belongs to, for the per-area breakdown. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1] !== undefined) return `npm: ${modules[1]}`;
  if (url.startsWith('node:')) {
    const base = url.slice(5).split('/')[1] ?? url.slice(5);
    return `node: ${base}`;
  }
  const source = /\/src\/([^/]+)\//.exec(url);
  if (source?.[1] !== undefined) return `meshos: src/${source[1]}`;
  return url;
}

/** A time window on the monotonic clock, in microseconds (`process.hrtime.bigint() / 1000n`). */
export interface ProfileWindow {
  readonly fromMicroseconds: number;
  readonly toMicroseconds: number;
}

/**
 * Aggregates self time per function and per area; `top` entries each, largest first. With a
 * window, only samples inside it count: V8 stamps samples with the same monotonic clock that
 * `process.hrtime` reads, so a window taken in another process on this machine lines up.
 */
export function summarizeProfile(profile: CpuProfile, top = 25, window?: ProfileWindow): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfByFunction = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  let stampMicroseconds = profile.startTime;
  for (let index = 0; index < profile.samples.length; index++) {
    const node = byId.get(profile.samples[index]!);
    // timeDeltas[i] is the time since the previous sample; attribute it to this sample.
    const deltaMicroseconds = profile.timeDeltas[index] ?? 0;
    stampMicroseconds += deltaMicroseconds;
    const deltaMs = deltaMicroseconds / 1000;
    if (node === undefined) continue;
    if (
      window !== undefined &&
      (stampMicroseconds < window.fromMicroseconds || stampMicroseconds > window.toMicroseconds)
    ) {
      continue;
    }
    totalMs += deltaMs;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') idleMs += deltaMs;
    const name = `${frame.functionName || '(anonymous)'} ${location(frame.url, frame.lineNumber)}`.trim();
    selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + deltaMs);
    const area = areaOf(frame.url, frame.functionName);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + deltaMs);
  }
  const busyMs = totalMs - idleMs;
  const rank = (map: Map<string, number>): SelfTimeEntry[] =>
    [...map]
      .filter(([name]) => !name.startsWith('(idle)') && name !== 'idle')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, selfMs]) => ({ name, selfMs, share: busyMs > 0 ? selfMs / busyMs : 0 }));
  return { totalMs, busyMs, functions: rank(selfByFunction), areas: rank(selfByArea) };
}

export async function summarizeProfileFile(
  file: string,
  top = 25,
  window?: ProfileWindow,
): Promise<ProfileSummary> {
  return summarizeProfile(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, top, window);
}

export function formatSummary(title: string, summary: ProfileSummary): string {
  const lines = [
    `### ${title}`,
    '',
    `Profiled ${(summary.totalMs / 1000).toFixed(1)} s, busy (not idle) ${(summary.busyMs / 1000).toFixed(1)} s (${((100 * summary.busyMs) / Math.max(1, summary.totalMs)).toFixed(0)}% of one core). Shares are of busy time.`,
    '',
    '| area | self ms | share |',
    '| --- | ---: | ---: |',
    ...summary.areas.map(
      (entry) => `| ${entry.name} | ${entry.selfMs.toFixed(0)} | ${(entry.share * 100).toFixed(1)}% |`,
    ),
    '',
    '| function (self time) | self ms | share |',
    '| --- | ---: | ---: |',
    ...summary.functions.map(
      (entry) => `| \`${entry.name}\` | ${entry.selfMs.toFixed(0)} | ${(entry.share * 100).toFixed(1)}% |`,
    ),
    '',
  ];
  return lines.join('\n');
}
