import { median } from '../harness.js';
import { APPEND_CLIENTS, type RoundFigures } from './chains-round.js';

/** One column of the report: a system in one sync mode, each figure's value from every round. */
export interface ChainsColumn {
  readonly label: string;
  readonly system: string;
  readonly values: ReadonlyMap<string, readonly number[]>;
}

export const FAILOVER_METRIC = 'failover gap, kill -9 leader (ms)';

/** The median of the measured values (NaN, a round that measured nothing, is left out). */
export function measuredMedian(values: readonly number[]): number {
  return median(values.filter((value) => !Number.isNaN(value)));
}

/** Columns in the order systems and modes first appear; each figure lists one value per round. */
export function chainsColumns(rounds: readonly RoundFigures[]): ChainsColumn[] {
  const columns = new Map<string, { label: string; system: string; values: Map<string, number[]> }>();
  const add = (label: string, system: string, metric: string, value: number): void => {
    let column = columns.get(label);
    if (column === undefined) {
      column = { label, system, values: new Map() };
      columns.set(label, column);
    }
    const values = column.values.get(metric) ?? [];
    values.push(value);
    column.values.set(metric, values);
  };
  for (const round of rounds) {
    for (const [index, mode] of round.modes.entries()) {
      const label = `${round.system}, ${mode.mode}`;
      for (const load of mode.loads) {
        add(label, round.system, `appends x${load.clients} (acks/s)`, load.acksPerSecond);
        add(label, round.system, `appends x${load.clients} p50 (ms)`, load.p50Ms);
        add(label, round.system, `appends x${load.clients} p99 (ms)`, load.p99Ms);
      }
      add(label, round.system, 'read (records/s)', mode.readRecordsPerSecond);
      add(label, round.system, 'records read (count)', mode.recordsRead);
      if (index === 0) add(label, round.system, FAILOVER_METRIC, round.failover.gapMs);
    }
  }
  return [...columns.values()];
}

export function chainsMetrics(): string[] {
  return [
    ...APPEND_CLIENTS.flatMap((clients) => [
      `appends x${clients} (acks/s)`,
      `appends x${clients} p50 (ms)`,
      `appends x${clients} p99 (ms)`,
    ]),
    'read (records/s)',
    'records read (count)',
    FAILOVER_METRIC,
  ];
}

export function format(value: number): string {
  if (Number.isNaN(value)) return '—';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(value >= 10 ? 1 : 2);
}

/**
 * A markdown table: one row per figure, the median over rounds per column (every round's value
 * in brackets when there are several), then each other column's ratio to `reference`.
 */
export function renderChainsTable(columns: readonly ChainsColumn[], reference?: ChainsColumn): string {
  const others = reference === undefined ? [] : columns.filter((column) => column !== reference);
  const header = [
    'figure',
    ...columns.map((column) => column.label),
    ...others.map((column) => `${column.label} / ${reference?.label}`),
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, index) => (index === 0 ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const metric of chainsMetrics()) {
    const cells = columns.map((column) => {
      const values = column.values.get(metric);
      if (values === undefined) return '';
      const rounds = values.length > 1 ? ` (${values.map(format).join(', ')})` : '';
      return `${format(measuredMedian(values))}${rounds}`;
    });
    const referenceValues = reference?.values.get(metric);
    const ratios = others.map((column) => {
      const values = column.values.get(metric);
      // A count (how much there was to read) is context, not a figure to compare.
      if (values === undefined || referenceValues === undefined || metric.endsWith('(count)')) return '';
      return (measuredMedian(values) / measuredMedian(referenceValues)).toFixed(2);
    });
    if (cells.every((cell) => cell === '')) continue;
    lines.push(`| ${[metric, ...cells, ...ratios].join(' | ')} |`);
  }
  const direction =
    reference === undefined || others.length === 0
      ? ''
      : `\nRatios are against ${reference.label}: above 1 is better for throughput, below 1 for latency and the failover gap.\n`;
  return `${lines.join('\n')}\n${direction}`;
}
