import { parseArgs } from 'node:util';
import { wholeNumberFlag } from '../flags.js';

/**
 * `npm run bench -- daemons [--runs=N] [--duration=SECONDS] [--failovers=N] [--loads-only]
 * [--report] [--note=TEXT ...]`
 */
export interface DaemonsBenchSettings {
  /** Rounds, each on a fresh 3-node cluster; figures are medians over rounds. */
  readonly runs: number;
  /** Length of each load (KV puts and events, at each concurrency). */
  readonly loadDurationMs: number;
  /** Kills of the active's node per case (it leads Raft / it does not) per round. */
  readonly failoversPerCase: number;
  /** Only the loads (KV puts and events): no failovers, no move (a shorter run for comparing rates). */
  readonly loadsOnly: boolean;
  /** Writes the daemons section of docs/BENCHMARKS.md. */
  readonly report: boolean;
  /** Lines added to the report's notes (e.g. what else ran on the machine). */
  readonly notes: readonly string[];
}

export const DEFAULT_RUNS = 1;
export const MAX_RUNS = 5;
export const DEFAULT_LOAD_SECONDS = 2;
export const MAX_LOAD_SECONDS = 10;
export const DEFAULT_FAILOVERS_PER_CASE = 3;
export const MAX_FAILOVERS_PER_CASE = 10;

export function daemonsBenchSettings(argv: readonly string[]): DaemonsBenchSettings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string' },
      duration: { type: 'string' },
      failovers: { type: 'string' },
      'loads-only': { type: 'boolean', default: false },
      report: { type: 'boolean', default: false },
      note: { type: 'string', multiple: true },
    },
    strict: false,
    allowPositionals: true,
  });
  return {
    runs: wholeNumberFlag('runs', values.runs, DEFAULT_RUNS, 1, MAX_RUNS),
    loadDurationMs:
      wholeNumberFlag('duration', values.duration, DEFAULT_LOAD_SECONDS, 1, MAX_LOAD_SECONDS) * 1000,
    failoversPerCase: wholeNumberFlag(
      'failovers',
      values.failovers,
      DEFAULT_FAILOVERS_PER_CASE,
      1,
      MAX_FAILOVERS_PER_CASE,
    ),
    loadsOnly: values['loads-only'] === true,
    report: values.report === true,
    notes: (Array.isArray(values.note) ? values.note : []).filter((note) => typeof note === 'string'),
  };
}
