import { appendFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bench } from 'tinybench';

/** One measured figure, as written to bench/results/results.jsonl and docs/BENCHMARKS.md. */
export interface BenchFigure {
  readonly suite: string;
  readonly metric: string;
  readonly median: number;
  readonly unit: string;
  readonly p99?: number;
  readonly samples: number;
  readonly target?: string;
}

export interface BenchContext {
  /** Records a figure: printed in the suite's table and appended to the results file. */
  record(figure: Omit<BenchFigure, 'suite'>): void;
  /** Runs `measure` `runs` times and returns the median and p99 of what it returned. */
  repeat(runs: number, measure: () => Promise<number> | number): Promise<{ median: number; p99: number }>;
  /** Runs tinybench tasks (name -> function) and records each task's median latency and ops/s. */
  tinybench(tasks: Record<string, () => unknown>, options?: { timeMs?: number }): Promise<void>;
}

export interface BenchSuite {
  readonly name: string;
  run(context: BenchContext): Promise<void>;
}

export const RESULTS_FILE = path.join('bench', 'results', 'results.jsonl');

export function percentile(sortedValues: readonly number[], fraction: number): number {
  if (sortedValues.length === 0) return Number.NaN;
  const index = Math.min(sortedValues.length - 1, Math.ceil(fraction * sortedValues.length) - 1);
  return sortedValues[Math.max(0, index)] ?? Number.NaN;
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function machineDescription(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** Runs one suite, prints its table and appends its figures to the results file. */
export async function runSuite(suite: BenchSuite): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const context: BenchContext = {
    record(figure) {
      figures.push({ suite: suite.name, ...figure });
    },
    async repeat(runs, measure) {
      const values: number[] = [];
      for (let run = 0; run < runs; run++) values.push(await measure());
      values.sort((a, b) => a - b);
      return { median: percentile(values, 0.5), p99: percentile(values, 0.99) };
    },
    async tinybench(tasks, options) {
      const bench = new Bench({ time: options?.timeMs ?? 1_000 });
      for (const [name, task] of Object.entries(tasks)) bench.add(name, task);
      await bench.run();
      for (const task of bench.tasks) {
        const result = task.result;
        if (result === undefined || !('latency' in result)) continue;
        figures.push({
          suite: suite.name,
          metric: `${task.name} latency`,
          median: result.latency.p50 ?? Number.NaN,
          p99: result.latency.p99 ?? Number.NaN,
          unit: 'ms',
          samples: result.latency.samplesCount,
        });
        figures.push({
          suite: suite.name,
          metric: `${task.name} throughput`,
          median: result.throughput.p50 ?? Number.NaN,
          unit: 'ops/s',
          samples: result.throughput.samplesCount,
        });
      }
    },
  };
  await suite.run(context);
  console.log(`\n## ${suite.name}`);
  console.table(
    figures.map((figure) => ({
      metric: figure.metric,
      median: round(figure.median),
      p99: figure.p99 === undefined ? '' : round(figure.p99),
      unit: figure.unit,
      samples: figure.samples,
      target: figure.target ?? '',
    })),
  );
  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  const stamp = new Date().toISOString();
  const machine = machineDescription();
  for (const figure of figures)
    appendFileSync(RESULTS_FILE, `${JSON.stringify({ ...figure, stamp, machine })}\n`);
  return figures;
}

function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 1000) / 1000;
}

/** Runs `action` in a fresh directory under the system's temporary folder, removed afterwards. */
export async function withTemporaryDirectory<T>(
  prefix: string,
  name: string,
  action: (directory: string) => Promise<T>,
): Promise<T> {
  const root = await mkdtemp(path.join(os.tmpdir(), prefix));
  try {
    return await action(path.join(root, name));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** What `runConcurrentAppends` measured: each append's latency (sorted) and the run's length. */
export interface AppendRun {
  readonly latenciesMs: number[];
  readonly elapsedSeconds: number;
}

/**
 * Runs `appenders` loops at once, each awaiting `appendOne` again and again until `runTimeMs`
 * has passed or `appendOne` returns false (nothing left to append).
 */
export async function runConcurrentAppends(
  appenders: number,
  runTimeMs: number,
  appendOne: () => Promise<boolean>,
): Promise<AppendRun> {
  const latenciesMs: number[] = [];
  const startedMs = performance.now();
  const deadlineMs = startedMs + runTimeMs;
  const appender = async (): Promise<void> => {
    while (performance.now() < deadlineMs) {
      const beganMs = performance.now();
      if (!(await appendOne())) return;
      latenciesMs.push(performance.now() - beganMs);
    }
  };
  await Promise.all(Array.from({ length: appenders }, appender));
  latenciesMs.sort((a, b) => a - b);
  return { latenciesMs, elapsedSeconds: (performance.now() - startedMs) / 1000 };
}

/** Records an append run's rate, fdatasync rate and latency under `label`. */
export function recordAppendRun(
  context: BenchContext,
  label: string,
  unit: string,
  run: AppendRun,
  fsyncs: number,
): void {
  context.record({
    metric: `${label}: ${unit}/s`,
    median: run.latenciesMs.length / run.elapsedSeconds,
    unit: `${unit}/s`,
    samples: run.latenciesMs.length,
  });
  context.record({
    metric: `${label}: fsyncs/s`,
    median: fsyncs / run.elapsedSeconds,
    unit: 'fsyncs/s',
    samples: fsyncs,
  });
  context.record({
    metric: `${label}: latency`,
    median: percentile(run.latenciesMs, 0.5),
    p99: percentile(run.latenciesMs, 0.99),
    unit: 'ms',
    samples: run.latenciesMs.length,
  });
}

/** Runs a bench script's `main` and exits: 0 when it resolves, 1 with the error's stack when it throws. */
export function runToExit(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exit(1);
    },
  );
}
