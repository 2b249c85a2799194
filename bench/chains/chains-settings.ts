import { parseArgs } from 'node:util';
import { wholeNumberFlag } from '../flags.js';

/** `npm run bench -- chains [--runs=N] [--duration=SECONDS] [--systems=jetstream,meshos] [--report] [--note=TEXT ...]` */
export interface ChainsBenchSettings {
  /** Rounds: each system runs every phase once per round on a fresh cluster; figures are medians. */
  readonly runs: number;
  /** Length of each append load (each ends earlier at `MAX_APPENDS_PER_LOAD`). */
  readonly loadDurationMs: number;
  readonly systems: readonly ChainsBenchSystem[];
  /** Writes the chains section of docs/BENCHMARKS.md. */
  readonly report: boolean;
  /** Lines added to the report's notes (e.g. what else ran on the machine). */
  readonly notes: readonly string[];
}

export type ChainsBenchSystem = 'jetstream' | 'meshos';

const SYSTEMS: readonly ChainsBenchSystem[] = ['jetstream', 'meshos'];
export const DEFAULT_RUNS = 3;
export const MAX_RUNS = 10;
export const DEFAULT_LOAD_SECONDS = 2;
export const MAX_LOAD_SECONDS = 30;

export function chainsBenchSettings(argv: readonly string[]): ChainsBenchSettings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string' },
      duration: { type: 'string' },
      systems: { type: 'string' },
      report: { type: 'boolean', default: false },
      note: { type: 'string', multiple: true },
    },
    strict: false,
    allowPositionals: true,
  });
  const systemsText = typeof values.systems === 'string' ? values.systems : SYSTEMS.join(',');
  const systems = systemsText.split(',').map((name) => name.trim());
  for (const system of systems) {
    if (!SYSTEMS.includes(system as ChainsBenchSystem)) {
      throw new Error(`--systems takes ${SYSTEMS.join(', ')}; got '${system}'`);
    }
  }
  return {
    runs: wholeNumberFlag('runs', values.runs, DEFAULT_RUNS, 1, MAX_RUNS),
    loadDurationMs:
      wholeNumberFlag('duration', values.duration, DEFAULT_LOAD_SECONDS, 1, MAX_LOAD_SECONDS) * 1000,
    systems: systems as ChainsBenchSystem[],
    report: values.report === true,
    notes: (Array.isArray(values.note) ? values.note : []).filter((note) => typeof note === 'string'),
  };
}
