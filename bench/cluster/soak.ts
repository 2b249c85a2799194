import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { BenchCluster } from './bench-cluster.js';
import { EtcdCluster, etcdStatus } from './etcd-cluster.js';
import { DEFAULT_VALUE_BYTES, MAX_REQUESTS_PER_TIMED_LOAD, runLoad } from './load.js';
import { MeshosCluster } from './meshos-cluster.js';
import { withCluster } from './stress-modes.js';

/**
 * The put soak: 64 clients put 256-byte values over 10,000 keys for a long time with
 * auto-compaction on, while every member's resident memory and Raft term are sampled. A system
 * whose memory stays bounded shows a flat RSS after warm-up; one that keeps history grows.
 */
export const SOAK_CLIENTS = 64;
export const SOAK_KEYS = 10_000;
/** How often each member's RSS and term are sampled. */
export const SOAK_SAMPLE_INTERVAL_MS = 5_000;
/** Same retention for both systems: etcd's `--auto-compaction-retention 1m`, periodic mode. */
export const SOAK_AUTO_COMPACTION_ARGUMENTS = [
  '--auto-compaction-mode',
  'periodic',
  '--auto-compaction-retention',
  '1m',
] as const;
/** Request deadline in the soak: a request slower than this counts as an error. */
const SOAK_REQUEST_TIMEOUT_MS = 10_000;
const STATUS_TIMEOUT_MS = 1_000;

export interface MemberMemory {
  readonly member: number;
  readonly startMegabytes: number;
  readonly middleMegabytes: number;
  readonly endMegabytes: number;
  readonly maxMegabytes: number;
  /** MeshOS only: where the memory is, from the member's /metrics (end and max of the samples). */
  readonly details?: Readonly<Record<MemoryDetail, { readonly end: number; readonly max: number }>>;
}

/** What a MeshOS member's /metrics tells of its memory, by gauge (values as the table shows them). */
const MEMORY_DETAILS = {
  'heap used MB': { gauge: 'meshos_process_nodejs_heap_size_used_bytes', scale: 1 / (1024 * 1024) },
  'heap total MB': { gauge: 'meshos_process_nodejs_heap_size_total_bytes', scale: 1 / (1024 * 1024) },
  'external MB': { gauge: 'meshos_process_nodejs_external_memory_bytes', scale: 1 / (1024 * 1024) },
  'Raft log entries in memory': { gauge: 'meshos_raft_log_entries_in_memory', scale: 1 },
  'Raft snapshot MB in memory': { gauge: 'meshos_raft_snapshot_bytes_in_memory', scale: 1 / (1024 * 1024) },
  'stored revisions': { gauge: 'meshos_mvcc_stored_records', scale: 1 },
} as const;
type MemoryDetail = keyof typeof MEMORY_DETAILS;

/** One sample of a member's memory details; undefined when it is not MeshOS or does not answer. */
async function sampleDetails(
  cluster: BenchCluster,
  index: number,
): Promise<Record<MemoryDetail, number> | undefined> {
  if (!(cluster instanceof MeshosCluster)) return undefined;
  const text = await cluster.metricsText(index);
  if (text === undefined) return undefined;
  const sample = {} as Record<MemoryDetail, number>;
  for (const [name, { gauge, scale }] of Object.entries(MEMORY_DETAILS)) {
    const match = new RegExp(`^${gauge} (\\S+)$`, 'm').exec(text);
    if (match === null) return undefined;
    sample[name as MemoryDetail] = Number(match[1]) * scale;
  }
  return sample;
}

export interface SoakResult {
  readonly system: string;
  readonly durationMs: number;
  readonly puts: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly putsPerSecond: number;
  readonly p99Ms: number;
  readonly maxLatencyMs: number;
  /** Raft term increases seen during the load (each is at least one election). */
  readonly termChanges: number;
  readonly members: readonly MemberMemory[];
  /** Largest member's data in use (Status dbSizeInUse), at the end and at most, in MB. */
  readonly dataInUseEndMegabytes: number;
  readonly dataInUseMaxMegabytes: number;
}

/** Resident set size of a process in megabytes, from /proc; undefined if it is gone. */
function residentMegabytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * Samples each member's RSS, and over etcd's Status RPC (which both systems serve) its Raft term
 * and the size of its data in use (etcd: bbolt pages in use; MeshOS: what the quota counts).
 */
export async function runSoak(
  cluster: BenchCluster,
  durationMs: number,
  log: (line: string) => void,
): Promise<SoakResult> {
  const members = cluster.endpoints.map((_, index) => index);
  const samples: number[][] = members.map(() => []);
  const details: Record<MemoryDetail, number>[][] = members.map(() => []);
  const dataInUse: number[] = [];
  let maxTerm = 0;
  const sample = async (): Promise<void> => {
    for (const index of members) {
      const megabytes = residentMegabytes(cluster.pid(index));
      if (megabytes !== undefined) samples[index]!.push(megabytes);
      const detail = await sampleDetails(cluster, index);
      if (detail !== undefined) details[index]!.push(detail);
    }
    const statuses = await Promise.all(
      cluster.endpoints.map((endpoint) => etcdStatus(endpoint, STATUS_TIMEOUT_MS)),
    );
    let largest = 0;
    for (const status of statuses) {
      if (status === undefined) continue;
      maxTerm = Math.max(maxTerm, Number(status.raftTerm));
      largest = Math.max(largest, Number(status.dbSizeInUse) / (1024 * 1024));
    }
    dataInUse.push(largest);
  };
  await sample();
  const startTerm = maxTerm;
  let maxLatencyMs = 0;
  const started = performance.now();
  const sampler = setInterval(() => {
    sample()
      .then(() => {
        const elapsedSeconds = Math.round((performance.now() - started) / 1000);
        const rss = samples.map((series) => `${Math.round(series.at(-1) ?? 0)}`).join('/');
        const data = Math.round(dataInUse.at(-1) ?? 0);
        log(
          `${cluster.system} soak ${elapsedSeconds} s: RSS ${rss} MB, data in use ${data} MB, term ${maxTerm}`,
        );
      })
      .catch(() => {
        // A member that does not answer is sampled again next time.
      });
  }, SOAK_SAMPLE_INTERVAL_MS);
  let load: Awaited<ReturnType<typeof runLoad>>;
  try {
    load = await runLoad({
      endpoints: cluster.endpoints,
      operation: 'put',
      clients: SOAK_CLIENTS,
      keySpace: Math.ceil(SOAK_KEYS / SOAK_CLIENTS),
      maxRequests: MAX_REQUESTS_PER_TIMED_LOAD,
      maxDurationMs: durationMs,
      requestTimeoutMs: SOAK_REQUEST_TIMEOUT_MS,
      observe: (sentAtMs, doneAtMs) => {
        maxLatencyMs = Math.max(maxLatencyMs, doneAtMs - sentAtMs);
      },
    });
  } finally {
    clearInterval(sampler);
  }
  await sample();
  return {
    system: cluster.system,
    durationMs: load.durationMs,
    puts: load.succeeded,
    errors: load.failed,
    ...(load.firstError === undefined ? {} : { firstError: load.firstError }),
    putsPerSecond: load.throughputPerSecond,
    p99Ms: load.p99Ms,
    maxLatencyMs,
    termChanges: maxTerm - startTerm,
    dataInUseEndMegabytes: dataInUse.at(-1) ?? 0,
    dataInUseMaxMegabytes: Math.max(0, ...dataInUse),
    members: samples.map((series, member) => ({
      member: member + 1,
      startMegabytes: series[0] ?? 0,
      middleMegabytes: series[Math.floor(series.length / 2)] ?? 0,
      endMegabytes: series.at(-1) ?? 0,
      maxMegabytes: Math.max(0, ...series),
      ...(details[member]!.length === 0 ? {} : { details: summarizeDetails(details[member]!) }),
    })),
  };
}

function summarizeDetails(
  series: readonly Record<MemoryDetail, number>[],
): Record<MemoryDetail, { end: number; max: number }> {
  const summary = {} as Record<MemoryDetail, { end: number; max: number }>;
  for (const name of Object.keys(MEMORY_DETAILS) as MemoryDetail[]) {
    const values = series.map((sample) => sample[name]);
    summary[name] = { end: values.at(-1) ?? 0, max: Math.max(0, ...values) };
  }
  return summary;
}

/** The soak's figures as a Markdown block: one line per system, one row per member. */
export function renderSoak(
  results: readonly SoakResult[],
  heading: string,
  notes: readonly string[],
): string {
  const lines = [heading, '', ...notes.map((note) => `- ${note}`), ''];
  lines.push(
    '| system | puts/s | puts | errors | p99 ms | max latency ms | term changes | data in use end / max MB |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const result of results) {
    lines.push(
      `| ${result.system} | ${Math.round(result.putsPerSecond)} | ${result.puts} | ${result.errors} | ${result.p99Ms.toFixed(1)} | ${Math.round(result.maxLatencyMs)} | ${result.termChanges} | ${result.dataInUseEndMegabytes.toFixed(1)} / ${result.dataInUseMaxMegabytes.toFixed(1)} |`,
    );
  }
  lines.push('', '| system | member | RSS start MB | RSS middle MB | RSS end MB | RSS max MB |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const result of results) {
    for (const member of result.members) {
      lines.push(
        `| ${result.system} | ${member.member} | ${Math.round(member.startMegabytes)} | ${Math.round(member.middleMegabytes)} | ${Math.round(member.endMegabytes)} | ${Math.round(member.maxMegabytes)} |`,
      );
    }
  }
  const detailed = results.flatMap((result) =>
    result.members.flatMap((member) => (member.details === undefined ? [] : [{ result, member }])),
  );
  if (detailed.length > 0) {
    const names = Object.keys(MEMORY_DETAILS) as MemoryDetail[];
    lines.push('', `| system | member | ${names.map((name) => `${name} end / max`).join(' | ')} |`);
    lines.push(`| --- | ---: | ${names.map(() => '---:').join(' | ')} |`);
    for (const { result, member } of detailed) {
      const cells = names.map((name) => {
        const { end, max } = member.details![name];
        return `${Math.round(end)} / ${Math.round(max)}`;
      });
      lines.push(`| ${result.system} | ${member.member} | ${cells.join(' | ')} |`);
    }
  }
  const errors = results.filter((result) => result.firstError !== undefined);
  if (errors.length > 0) {
    lines.push('', ...errors.map((result) => `First error (${result.system}): \`${result.firstError}\``));
  }
  return `${lines.join('\n')}\n`;
}

const CLUSTER_START_TIMEOUT_MS = 60_000;
/** The soak's block in docs/BENCHMARKS.md lies between these lines; a run replaces it. */
export const SOAK_SECTION_START = '<!-- soak:start (written by npm run bench:etcd -- --soak) -->';
export const SOAK_SECTION_END = '<!-- soak:end -->';

/** `30m`, `2m`, `90s`, or plain seconds (as the other modes' `--duration`). */
export function parseSoakDuration(text: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(text);
  const unitMs: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };
  if (match === null || Number(match[1]) === 0)
    throw new Error(`--duration '${text}' is not like 30m, 90s or 120`);
  return Number(match[1]) * (unitMs[match[2] ?? 's'] ?? 1_000);
}

function soakOne(
  cluster: BenchCluster,
  durationMs: number,
  log: (line: string) => void,
): Promise<SoakResult> {
  log(`${cluster.system}: ${Math.round(durationMs / 1000)} s soak`);
  return withCluster(cluster, CLUSTER_START_TIMEOUT_MS, log, () => runSoak(cluster, durationMs, log));
}

/** Soaks each named system in turn (etcd first), then writes the block into `reportFile`. */
export async function soakSystems(
  systems: ReadonlySet<string>,
  durationMs: number,
  reportFile: string,
  log: (line: string) => void,
  extraNotes: readonly string[] = [],
): Promise<SoakResult[]> {
  const loadAverage = os.loadavg()[0]?.toFixed(2) ?? '?';
  const results: SoakResult[] = [];
  if (systems.has('etcd')) {
    results.push(await soakOne(await EtcdCluster.create(3, SOAK_AUTO_COMPACTION_ARGUMENTS), durationMs, log));
  }
  if (systems.has('meshos')) {
    const meshos = await MeshosCluster.create({ startArguments: SOAK_AUTO_COMPACTION_ARGUMENTS });
    results.push(await soakOne(meshos, durationMs, log));
  }
  const block = renderSoak(
    results,
    `### Put soak, ${durationMs >= 60_000 ? `${Math.round(durationMs / 60_000)} min` : `${Math.round(durationMs / 1000)} s`} (${new Date().toISOString()})`,
    [
      `Each system alone on the same machine, 3 members on loopback; ${SOAK_CLIENTS} closed-loop clients put ${DEFAULT_VALUE_BYTES}-byte values over ${SOAK_KEYS.toLocaleString('en-US')} keys for the whole run (per-request deadline ${SOAK_REQUEST_TIMEOUT_MS / 1000} s, a slower request counts as an error).`,
      `Both with auto-compaction on, the same retention: \`${SOAK_AUTO_COMPACTION_ARGUMENTS.join(' ')}\` (etcd 3.4 and MeshOS's own flags); etcd's default 2 GiB quota, MeshOS's the same.`,
      `RSS from /proc/<pid>/status every ${SOAK_SAMPLE_INTERVAL_MS / 1000} s; start is just before the load, middle and end are samples half-way and after it. Term changes are Raft term increases seen over the run (each one an election). Data in use is Status's dbSizeInUse (etcd: bbolt pages in use; MeshOS: the bytes its quota counts), the largest member's. One-minute load average at start: ${loadAverage}.`,
      "MeshOS members' memory details from their /metrics at every sample (end of the run / max over it): V8 heap used and total, external (ArrayBuffer) memory, the Raft log entries and snapshot bytes held in memory, and the revisions the store keeps.",
      ...extraNotes,
    ],
  );
  const previous = existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : '';
  const start = previous.indexOf(SOAK_SECTION_START);
  const end = previous.indexOf(SOAK_SECTION_END);
  const section = `${SOAK_SECTION_START}\n${block}${SOAK_SECTION_END}`;
  const updated =
    start >= 0 && end > start
      ? `${previous.slice(0, start)}${section}${previous.slice(end + SOAK_SECTION_END.length)}`
      : `${previous.trimEnd()}\n\n## Memory under a steady put load\n\n${section}\n`;
  writeFileSync(reportFile, updated);
  log(`\n${block}\nwritten to ${reportFile}`);
  return results;
}
