import { appendFileSync, mkdirSync } from 'node:fs';
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
