import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GC_REPORT_DELAY_MS } from '../../src/lib/index.js';
import { percentile } from '../harness.js';
import type { BenchCluster } from './bench-cluster.js';
import { IdleProbe, type IdleProbeResult } from './idle-probe.js';
import {
  describeLoad,
  type LoadOperation,
  MAX_REQUESTS_PER_TIMED_LOAD,
  preloadReadKeys,
  runLoad,
  timedLoad,
} from './load.js';
import { type JudgedLongStep, judgeLongSteps } from './machine-stalls.js';
import { MeshosCluster } from './meshos-cluster.js';
import { sleep } from './processes.js';
import { formatErrors } from './report-section.js';
import { KILL_LEADER, type LeaderDisruption, type Log, measureFailover, type SuiteOptions } from './suite.js';

/**
 * `npm run bench:etcd -- --saturation`: each system under a long, heavy load — puts from many
 * clients, then linearizable gets — counting what a busy cluster must not do: change terms,
 * fail requests, stall. Then the failover gap with the leader paused (SIGSTOP, sockets stay open:
 * only the election timeout can notice) and killed (kill -9: the connection-loss hint notices).
 */
export interface SaturationOptions {
  /** Length of each load phase (puts, then gets). */
  readonly phaseMs: number;
  readonly putClients: number;
  readonly getClients: number;
  readonly warmupMs: number;
  /** How long the leader stays stopped in the paused-leader measurement. */
  readonly pauseMs: number;
}

export const DEFAULT_SATURATION_OPTIONS: SaturationOptions = {
  phaseMs: 5 * 60_000,
  putClients: 256,
  getClients: 64,
  warmupMs: 10_000,
  pauseMs: 5_000,
};

/** A stall worth counting: the issue's bound on the event loop's delay. */
const STALL_THRESHOLD_SECONDS = 0.05;
const BENCH_DELAY_RESOLUTION_MS = 10;
const NANOSECONDS_PER_MILLISECOND = 1e6;
/** Time for a member's log lines to reach the bench once written. */
const LOG_ARRIVAL_MS = 500;

export interface PhaseResult {
  readonly operation: LoadOperation;
  readonly clients: number;
  readonly succeeded: number;
  readonly throughputPerSecond: number;
  /** Failed requests by the message the client saw. */
  readonly errors: Readonly<Record<string, number>>;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** One member's event loop over the loads: windows (1 s) whose worst delay passed 50 ms. */
export interface MemberEventLoop {
  readonly member: number;
  readonly windows: number;
  readonly stalledWindows: number;
  /**
   * Windows whose worst delay less the main thread's run-queue wait over it passed 50 ms: the
   * member's own work (`meshos_event_loop_window_max_own_delay_seconds`).
   */
  readonly ownStalledWindows: number;
  /** The member's main thread's time waiting for a CPU during the loads. */
  readonly runQueueWaitMs: number;
  /** Upper bound of the bucket holding the worst window, in ms (Infinity past the last bucket). */
  readonly worstWindowAtMostMs: number;
  /** The member's own longest synchronous step by source since it started (warm-up included). */
  readonly longestStepMs: Readonly<Record<string, number>>;
  /** The member's own steps over 50 ms during the loads, by source. */
  readonly longSteps: Readonly<Record<string, number>>;
  /** The longest step by source by its own time (wall less run-queue wait), since start. */
  readonly longestOwnStepMs: Readonly<Record<string, number>>;
  /** Steps whose own time passed 50 ms during the loads, by source. */
  readonly longOwnSteps: Readonly<Record<string, number>>;
  /** Of those, the steps still over 50 ms once the GC pauses inside them are taken out. */
  readonly longOwnStepsOutsideGc: Readonly<Record<string, number>>;
  /** V8's garbage collections during the loads by kind (minor, major, incremental, weakcb): count and total ms. */
  readonly gc: Readonly<Record<string, { readonly count: number; readonly totalMs: number }>>;
  /** Resident set and V8 heap in use at the end of the loads, in MB. */
  readonly rssMb: number;
  readonly heapUsedMb: number;
}

export interface SaturationResult {
  readonly system: string;
  /**
   * Worst event-loop delay of the bench process itself over the loads: a baseline for the
   * members' figures, since on a busy machine a process that merely waits for the CPU shows
   * the same delay as one doing long work.
   */
  readonly benchEventLoopMaxMs: number;
  /** Idle processes' event loops over the loads, one pinned to each CPU: the machine's delays alone. */
  readonly idleProbes: readonly IdleProbeResult[];
  /**
   * MeshOS only: each member's steps and GC pauses over 50 ms of own time during the loads, with
   * the part of each that an idle probe saw the machine stalled.
   */
  readonly longSteps: readonly JudgedLongStep[];
  readonly termBefore: number;
  readonly termAfter: number;
  readonly phases: readonly PhaseResult[];
  /** MeshOS only: read from each member's /metrics before and after the loads. */
  readonly eventLoop: readonly MemberEventLoop[];
  readonly pausedLeaderGapMs: number;
  readonly killedLeaderGapMs: number;
}

/** One closed-loop phase, keeping every latency (for p99.9 and max) and every error message. */
async function runPhase(
  cluster: BenchCluster,
  operation: LoadOperation,
  clients: number,
  durationMs: number,
  log: Log,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const result = await runLoad({
    endpoints: cluster.endpoints,
    operation,
    clients,
    maxRequests: MAX_REQUESTS_PER_TIMED_LOAD,
    maxDurationMs: durationMs,
    observe: (sentAt, doneAt, succeeded, error) => {
      if (succeeded) latencies.push(doneAt - sentAt);
      else errors[error ?? '?'] = (errors[error ?? '?'] ?? 0) + 1;
    },
  });
  log(`  ${describeLoad(result)}`);
  latencies.sort((a, b) => a - b);
  return {
    operation,
    clients,
    succeeded: result.succeeded,
    throughputPerSecond: result.throughputPerSecond,
    errors,
    p99Ms: percentile(latencies, 0.99),
    p999Ms: percentile(latencies, 0.999),
    maxMs: latencies.at(-1) ?? Number.NaN,
  };
}

/** Cumulative bucket counts of the per-window worst event-loop delay, by upper bound in seconds. */
function windowBuckets(metrics: string | undefined, name: string): Map<number, number> {
  const buckets = new Map<number, number>();
  const pattern = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm');
  for (const match of (metrics ?? '').matchAll(pattern)) {
    buckets.set(match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]), Number(match[2]));
  }
  return buckets;
}

/** A gauge's value by its `source` label (`meshos_longest_step_seconds`, `meshos_long_steps`). */
function bySource(metrics: string | undefined, name: string, scale: number): Record<string, number> {
  const values: Record<string, number> = {};
  const pattern = new RegExp(`^${name}\\{source="([^"]+)"\\} (\\S+)$`, 'gm');
  for (const match of (metrics ?? '').matchAll(pattern))
    values[match[1] as string] = Number(match[2]) * scale;
  return values;
}

/** A histogram's `_count` or `_sum` by its `kind` label (`meshos_process_nodejs_gc_duration_seconds`). */
function byKind(metrics: string | undefined, name: string): Record<string, number> {
  const values: Record<string, number> = {};
  const pattern = new RegExp(`^${name}\\{kind="([^"]+)"\\} (\\S+)$`, 'gm');
  for (const match of (metrics ?? '').matchAll(pattern)) values[match[1] as string] = Number(match[2]);
  return values;
}

/** A plain gauge's value (NaN when absent). */
function gaugeValue(metrics: string | undefined, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics ?? '');
  return match === null ? Number.NaN : Number(match[1]);
}

const BYTES_PER_MB = 1024 * 1024;
const SCRAPE_ATTEMPTS = 5;
const GC_HISTOGRAM = 'meshos_process_nodejs_gc_duration_seconds';

interface MemberScrape {
  readonly windows: Map<number, number>;
  readonly ownWindows: Map<number, number>;
  readonly runQueueWaitSeconds: number;
  readonly longestStepMs: Record<string, number>;
  readonly longSteps: Record<string, number>;
  readonly longestOwnStepMs: Record<string, number>;
  readonly longOwnSteps: Record<string, number>;
  readonly longOwnStepsOutsideGc: Record<string, number>;
  readonly gcCount: Record<string, number>;
  readonly gcSeconds: Record<string, number>;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

async function scrapeMembers(cluster: BenchCluster): Promise<MemberScrape[]> {
  if (!(cluster instanceof MeshosCluster)) return [];
  return Promise.all(
    cluster.endpoints.map(async (_, index) => {
      // A loaded member may miss the scrape's short deadline; a missing "before" would count the warm-up.
      let text = await cluster.metricsText(index);
      for (let attempt = 1; attempt < SCRAPE_ATTEMPTS && text === undefined; attempt++)
        text = await cluster.metricsText(index);
      return {
        windows: windowBuckets(text, 'meshos_event_loop_window_max_delay_seconds'),
        ownWindows: windowBuckets(text, 'meshos_event_loop_window_max_own_delay_seconds'),
        runQueueWaitSeconds: gaugeValue(text, 'meshos_main_thread_run_queue_wait_seconds'),
        longestStepMs: bySource(text, 'meshos_longest_step_seconds', 1000),
        longSteps: bySource(text, 'meshos_long_steps', 1),
        longestOwnStepMs: bySource(text, 'meshos_longest_step_own_seconds', 1000),
        longOwnSteps: bySource(text, 'meshos_long_own_steps', 1),
        longOwnStepsOutsideGc: bySource(text, 'meshos_long_own_steps_outside_gc', 1),
        gcCount: byKind(text, `${GC_HISTOGRAM}_count`),
        gcSeconds: byKind(text, `${GC_HISTOGRAM}_sum`),
        rssBytes: gaugeValue(text, 'meshos_process_process_resident_memory_bytes'),
        heapUsedBytes: gaugeValue(text, 'meshos_process_nodejs_heap_size_used_bytes'),
      };
    }),
  );
}

function eventLoopBetween(
  before: readonly MemberScrape[],
  after: readonly MemberScrape[],
): MemberEventLoop[] {
  return after.map((scrape, member) => {
    const buckets = scrape.windows;
    const since = (counts: Record<string, number>, earlier: Record<string, number> | undefined) => {
      const during: Record<string, number> = {};
      for (const [source, count] of Object.entries(counts)) during[source] = count - (earlier?.[source] ?? 0);
      return during;
    };
    const gc: Record<string, { count: number; totalMs: number }> = {};
    for (const [kind, count] of Object.entries(scrape.gcCount)) {
      gc[kind] = {
        count: count - (before[member]?.gcCount[kind] ?? 0),
        totalMs: ((scrape.gcSeconds[kind] ?? 0) - (before[member]?.gcSeconds[kind] ?? 0)) * 1000,
      };
    }
    const delta = (bound: number): number =>
      (buckets.get(bound) ?? 0) - (before[member]?.windows.get(bound) ?? 0);
    const ownDelta = (bound: number): number =>
      (scrape.ownWindows.get(bound) ?? 0) - (before[member]?.ownWindows.get(bound) ?? 0);
    const windows = delta(Number.POSITIVE_INFINITY);
    const bounds = [...buckets.keys()].sort((a, b) => a - b);
    const worst = bounds.find((bound) => delta(bound) === windows) ?? Number.POSITIVE_INFINITY;
    return {
      member: member + 1,
      windows,
      stalledWindows: windows - delta(STALL_THRESHOLD_SECONDS),
      ownStalledWindows: ownDelta(Number.POSITIVE_INFINITY) - ownDelta(STALL_THRESHOLD_SECONDS),
      runQueueWaitMs: (scrape.runQueueWaitSeconds - (before[member]?.runQueueWaitSeconds ?? 0)) * 1000,
      worstWindowAtMostMs: worst * 1000,
      longestStepMs: scrape.longestStepMs,
      longSteps: since(scrape.longSteps, before[member]?.longSteps),
      longestOwnStepMs: scrape.longestOwnStepMs,
      longOwnSteps: since(scrape.longOwnSteps, before[member]?.longOwnSteps),
      longOwnStepsOutsideGc: since(scrape.longOwnStepsOutsideGc, before[member]?.longOwnStepsOutsideGc),
      gc,
      rssMb: scrape.rssBytes / BYTES_PER_MB,
      heapUsedMb: scrape.heapUsedBytes / BYTES_PER_MB,
    };
  });
}

/** SIGSTOP of the leader for `pauseMs`, then SIGCONT: a hung leader whose connections stay open. */
function pauseLeader(pauseMs: number): LeaderDisruption {
  let pausedAt = 0;
  return {
    name: `paused (SIGSTOP for ${pauseMs} ms)`,
    begin: async (cluster, leader) => {
      pausedAt = Date.now();
      cluster.setPaused(leader, true);
    },
    end: async (cluster, leader, options) => {
      await sleep(Math.max(0, pausedAt + pauseMs - Date.now()));
      cluster.setPaused(leader, false);
      await cluster.leaderIndex(options.clusterTimeoutMs);
    },
  };
}

/** The saturation run against a started cluster. */
export async function runSaturation(
  cluster: BenchCluster,
  options: SaturationOptions,
  suite: SuiteOptions,
  log: Log,
): Promise<SaturationResult> {
  log(`${cluster.system}: warm-up`);
  await timedLoad(cluster.endpoints, 'put', options.getClients, options.warmupMs);
  await preloadReadKeys(cluster.endpoints);
  const termBefore = await cluster.raftTerm();
  const membersBefore = await scrapeMembers(cluster);
  const benchDelay = monitorEventLoopDelay({ resolution: BENCH_DELAY_RESOLUTION_MS });
  benchDelay.enable();
  const probes = Array.from({ length: availableParallelism() }, (_, cpu) => IdleProbe.start(cpu));
  const loadsStartedAt = Date.now();
  const phases = [
    await runPhase(cluster, 'put', options.putClients, options.phaseMs, log),
    await runPhase(cluster, 'get-linearizable', options.getClients, options.phaseMs, log),
  ];
  const loadsEndedAt = Date.now();
  benchDelay.disable();
  // A member logs a long step once no GC report can still fall inside it, at the scrape after.
  await sleep(GC_REPORT_DELAY_MS + LOG_ARRIVAL_MS);
  const idleProbes = (await Promise.all(probes.map((probe) => probe.stop()))).flatMap((probe) => probe ?? []);
  const benchEventLoopMaxMs = benchDelay.max / NANOSECONDS_PER_MILLISECOND;
  const termAfter = await cluster.raftTerm();
  const eventLoop = eventLoopBetween(membersBefore, await scrapeMembers(cluster));
  await sleep(LOG_ARRIVAL_MS);
  const longSteps =
    cluster instanceof MeshosCluster
      ? judgeLongSteps(
          cluster
            .longSteps()
            .filter((step) => step.startedAt >= loadsStartedAt && step.startedAt <= loadsEndedAt),
          idleProbes.map((probe) => probe.stalls),
        )
      : [];
  log(
    `  term ${termBefore} -> ${termAfter}; bench process's own worst event-loop delay ${benchEventLoopMaxMs.toFixed(0)} ms; ${describeIdleProbes(idleProbes)}`,
  );
  if (longSteps.length > 0) log(`  long steps: ${describeLongSteps(longSteps)}`);
  for (const member of eventLoop) {
    log(
      `  member ${member.member}: ${describeWindows(member)}; steps (wall): ${describeSteps(member)}; by own time: ${describeOwnSteps(member)}; ${describeMemory(member)}`,
    );
  }
  const pausedLeaderGapMs = await measureFailover(cluster, suite, log, pauseLeader(options.pauseMs));
  const killedLeaderGapMs = await measureFailover(cluster, suite, log, KILL_LEADER);
  return {
    system: cluster.system,
    benchEventLoopMaxMs,
    idleProbes,
    longSteps,
    termBefore,
    termAfter,
    phases,
    eventLoop,
    pausedLeaderGapMs,
    killedLeaderGapMs,
  };
}

/** Longest step per source (and how many passed 50 ms during the loads), longest first. */
function describeSteps(member: MemberEventLoop): string {
  return Object.entries(member.longestStepMs)
    .filter(([, longest]) => longest > 0)
    .sort((a, b) => b[1] - a[1])
    .map(
      ([source, longest]) => `${source} ${longest.toFixed(1)} ms (${member.longSteps[source] ?? 0} > 50 ms)`,
    )
    .join(', ');
}

/** Windows over 50 ms by wall-clock delay and by own work, and the time spent waiting for a CPU. */
function describeWindows(member: MemberEventLoop): string {
  return `${member.stalledWindows} of ${member.windows} windows with a delay over ${STALL_THRESHOLD_SECONDS * 1000} ms (worst <= ${ms(member.worstWindowAtMostMs)} ms), ${member.ownStalledWindows} of them by own work; main thread waited for a CPU ${(member.runQueueWaitMs / 1000).toFixed(1)} s`;
}

/**
 * Longest step per source by own time, how many passed 50 ms of own time during the loads, and
 * how many of those still did with the GC pauses inside them taken out.
 */
function describeOwnSteps(member: MemberEventLoop): string {
  return Object.entries(member.longestOwnStepMs)
    .filter(([, longest]) => longest > 0)
    .sort((a, b) => b[1] - a[1])
    .map(
      ([source, longest]) =>
        `${source} ${longest.toFixed(1)} ms (${member.longOwnSteps[source] ?? 0} > 50 ms${source.startsWith('gc-') ? '' : `, ${member.longOwnStepsOutsideGc[source] ?? 0} without the GC inside`})`,
    )
    .join(', ');
}

/** The idle control processes' windows: their delays are the machine's alone. */
function describeIdleProbes(probes: readonly IdleProbeResult[]): string {
  if (probes.length === 0) return 'idle probes: no figures';
  return probes
    .map(
      (probe) =>
        `idle probe${probe.cpu === undefined ? '' : ` on CPU ${probe.cpu}`}: ${probe.wallOver} of ${probe.windows} windows with a delay over ${STALL_THRESHOLD_SECONDS * 1000} ms (worst ${probe.wallMaxMs.toFixed(0)} ms; ${probe.ownOver} over 50 ms less its run-queue wait, worst ${probe.ownMaxMs.toFixed(0)} ms; ${probe.stalls.length} stalls over 5 ms less its run-queue wait), waited for a CPU ${(probe.runQueueWaitMs / 1000).toFixed(1)} s`,
    )
    .join('; ');
}

/** What a long step did, as its member logged it: `; applied 900, sendMs 3`. */
function describeDetails(details: Readonly<Record<string, number>> | undefined): string {
  if (details === undefined) return '';
  return `; ${Object.entries(details)
    .map(([field, value]) => `${field} ${Number.isInteger(value) ? value : value.toFixed(1)}`)
    .join(', ')}`;
}

/**
 * Each long step, its own time, the machine's part of it and the main thread's CPU over it; then
 * how many stay long without the machine's part, and how many had the main thread on a CPU for
 * longer than the bound.
 */
function describeLongSteps(steps: readonly JudgedLongStep[]): string {
  const boundMs = STALL_THRESHOLD_SECONDS * 1000;
  const each = steps
    .map(
      (step) =>
        `member ${step.member} ${step.source} ${step.ownMs} ms (machine stalled ${step.machineMs.toFixed(0)} ms of it${step.mainThreadCpuMs === undefined ? '' : `; main thread on a CPU ${step.mainThreadCpuMs} ms`}${describeDetails(step.details)})`,
    )
    .join(', ');
  const stillLong = steps.filter((step) => step.ownMs - step.machineMs > boundMs);
  const known = steps.filter((step) => step.mainThreadCpuMs !== undefined);
  const busy = known.filter((step) => (step.mainThreadCpuMs ?? 0) > boundMs);
  return `${each}; ${stillLong.length} of ${steps.length} over ${boundMs} ms with the machine's part taken out; ${busy.length} of the ${known.length} with the main thread's CPU known had it on a CPU for more than ${boundMs} ms`;
}

/** GC count and total pause per kind during the loads, then RSS and heap in use at their end. */
function describeMemory(member: MemberEventLoop): string {
  const gc = Object.entries(member.gc)
    .map(([kind, { count, totalMs }]) => `${kind} ${count} (${totalMs.toFixed(0)} ms)`)
    .join(', ');
  return `GCs: ${gc}; RSS ${member.rssMb.toFixed(0)} MB, heap used ${member.heapUsedMb.toFixed(0)} MB`;
}

const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(0) : 'none');

/** The saturation figures of each system as a markdown section. */
export function renderSaturation(
  results: readonly SaturationResult[],
  options: SaturationOptions,
  context: string,
): string {
  const lines = [
    '## Saturation and paused leader',
    '',
    `${context}. Each system on a fresh 3-member cluster: ${options.warmupMs / 1000} s warm-up, then ${options.phaseMs / 1000} s of puts from ${options.putClients} clients, then ${options.phaseMs / 1000} s of linearizable gets from ${options.getClients} clients (closed loop, 5 s client deadline, load spread over all members). Term changes are counted over both loads. Then the leader is paused (SIGSTOP for ${options.pauseMs / 1000} s, then SIGCONT) and, separately, killed (kill -9) under a 16-client put load; the gap is the time to the first acknowledged put sent after the disruption.`,
    '',
    '| system | load | ok | req/s | errors by message | p99 ms | p99.9 ms | max ms |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |',
  ];
  for (const result of results) {
    for (const phase of result.phases) {
      lines.push(
        `| ${result.system} | ${phase.operation} ×${phase.clients} | ${phase.succeeded} | ${Math.round(phase.throughputPerSecond)} | ${formatErrors(phase.errors)} | ${phase.p99Ms.toFixed(1)} | ${phase.p999Ms.toFixed(1)} | ${phase.maxMs.toFixed(0)} |`,
      );
    }
  }
  lines.push(
    '',
    '| system | term changes | paused-leader gap ms | kill -9 leader gap ms |',
    '| --- | ---: | ---: | ---: |',
  );
  for (const result of results) {
    lines.push(
      `| ${result.system} | ${result.termAfter - result.termBefore} (${result.termBefore} → ${result.termAfter}) | ${ms(result.pausedLeaderGapMs)} | ${ms(result.killedLeaderGapMs)} |`,
    );
  }
  const meshos = results.find((result) => result.eventLoop.length > 0);
  if (meshos !== undefined) {
    lines.push(
      '',
      `MeshOS event loop over both loads (from each member's \`meshos_event_loop_window_max_delay_seconds\`, one observation per 1 s window): ${meshos.eventLoop
        .map((member) => `member ${member.member}: ${describeWindows(member)}`)
        .join(
          '; ',
        )}. The members' own longest synchronous steps by source (\`meshos_longest_step_seconds\`, since start; in brackets how many passed 50 ms during the loads): ${meshos.eventLoop
        .map((member) => `member ${member.member}: ${describeSteps(member)}; ${describeMemory(member)}`)
        .join(
          '; ',
        )}. The same by own time (wall less the member's main-thread run-queue wait, from Linux schedstat: \`meshos_longest_step_own_seconds\`, \`meshos_long_own_steps\`; "without the GC inside": \`meshos_long_own_steps_outside_gc\`): ${meshos.eventLoop
        .map((member) => `member ${member.member}: ${describeOwnSteps(member)}`)
        .join(
          '; ',
        )}. For scale, the bench process's own worst event-loop delay over the same loads: ${ms(meshos.benchEventLoopMaxMs)} ms; ${describeIdleProbes(meshos.idleProbes)} (an idle process's delays are waiting for a CPU, or the machine not running it).`,
      '',
      `Each step of a member's own work (GC taken out) and each GC pause over ${STALL_THRESHOLD_SECONDS * 1000} ms of own time during the loads, from the members' logs, with the most of it that an idle probe pinned to one CPU saw the machine stalled at the same moment (its timer late without waiting for a CPU: on this virtual machine, the host not running that CPU): ${meshos.longSteps.length === 0 ? 'none' : describeLongSteps(meshos.longSteps)}.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
