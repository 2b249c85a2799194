import { format, measuredMedian } from '../chains/chains-report.js';
import type { FailoverCase } from './daemon-failover.js';
import {
  type DaemonsRoundFigures,
  FAILOVER_CASES,
  FAILOVER_SENDERS,
  type LoadFigures,
  SENDER_COUNTS,
} from './daemons-round.js';

const CASE_LABELS: Record<FailoverCase, string> = {
  'leads-raft': "failover gap, the active's node also leads Raft (ms)",
  'follows-raft': "failover gap, the active's node does not lead Raft (ms)",
};
export const MOVE_METRIC = 'migration pause, `daemon move` (ms)';

/** One figure per line: its median over every sample, the samples in brackets when several. */
function cell(values: readonly number[]): string {
  if (values.length === 0) return '—';
  const samples = values.length > 1 ? ` (${values.map(format).join(', ')})` : '';
  return `${format(measuredMedian(values))}${samples}`;
}

function loadsAt(
  rounds: readonly DaemonsRoundFigures[],
  pick: (round: DaemonsRoundFigures) => readonly LoadFigures[],
  concurrency: number,
  figure: (load: LoadFigures) => number,
): number[] {
  return rounds.flatMap((round) =>
    pick(round)
      .filter((load) => load.concurrency === concurrency)
      .map(figure),
  );
}

/** Every figure by name with its samples (for the results file). */
export function daemonsFigures(rounds: readonly DaemonsRoundFigures[]): Map<string, number[]> {
  const figures = new Map<string, number[]>();
  for (const concurrency of SENDER_COUNTS) {
    const events = (figure: (load: LoadFigures) => number) =>
      loadsAt(rounds, (round) => round.events, concurrency, figure);
    const puts = (figure: (load: LoadFigures) => number) =>
      loadsAt(rounds, (round) => round.kvPuts, concurrency, figure);
    figures.set(
      `events x${concurrency} (events/s)`,
      events((load) => load.perSecond),
    );
    figures.set(
      `events x${concurrency} p50 (ms)`,
      events((load) => load.p50Ms),
    );
    figures.set(
      `events x${concurrency} p99 (ms)`,
      events((load) => load.p99Ms),
    );
    figures.set(
      `KV puts x${concurrency} (puts/s)`,
      puts((load) => load.perSecond),
    );
    figures.set(
      `KV puts x${concurrency} p50 (ms)`,
      puts((load) => load.p50Ms),
    );
    figures.set(
      `KV puts x${concurrency} p99 (ms)`,
      puts((load) => load.p99Ms),
    );
  }
  for (const failoverCase of FAILOVER_CASES) {
    figures.set(
      CASE_LABELS[failoverCase],
      rounds.flatMap((round) =>
        round.failovers
          .filter((result) => result.failoverCase === failoverCase)
          .map((result) => result.gapMs),
      ),
    );
  }
  figures.set(
    MOVE_METRIC,
    rounds.flatMap((round) => (round.movePauseMs === undefined ? [] : [round.movePauseMs])),
  );
  return figures;
}

/** The median ratio, each round's in brackets when several. */
function ratioCell(ratios: readonly number[]): string {
  if (ratios.length === 0) return '—';
  const samples = ratios.length > 1 ? ` (${ratios.map((ratio) => ratio.toFixed(2)).join(', ')})` : '';
  return `${measuredMedian(ratios).toFixed(2)}${samples}`;
}

/** The report: events against the cluster's own KV puts, the failover gaps and the move pause. */
export function renderDaemonsReport(rounds: readonly DaemonsRoundFigures[]): string {
  const figures = daemonsFigures(rounds);
  const at = (name: string): readonly number[] => figures.get(name) ?? [];
  const lines = [
    '| senders | events/s | p50 (ms) | p99 (ms) | KV puts/s | put p50 (ms) | put p99 (ms) | events / puts |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const concurrency of SENDER_COUNTS) {
    const events = at(`events x${concurrency} (events/s)`);
    const puts = at(`KV puts x${concurrency} (puts/s)`);
    // Each round's events against its own puts (the same cluster, minutes apart).
    const ratios = events.map((rate, round) => rate / (puts[round] ?? Number.NaN));
    lines.push(
      `| ${concurrency} | ${cell(events)} | ${cell(at(`events x${concurrency} p50 (ms)`))} | ${cell(at(`events x${concurrency} p99 (ms)`))} | ${cell(puts)} | ${cell(at(`KV puts x${concurrency} p50 (ms)`))} | ${cell(at(`KV puts x${concurrency} p99 (ms)`))} | ${ratioCell(ratios)} |`,
    );
  }
  lines.push('', '| figure | median (each sample) | target |', '| --- | ---: | ---: |');
  for (const failoverCase of FAILOVER_CASES)
    lines.push(`| ${CASE_LABELS[failoverCase]} | ${cell(at(CASE_LABELS[failoverCase]))} | < 500 |`);
  lines.push(`| ${MOVE_METRIC} | ${cell(at(MOVE_METRIC))} | |`);
  const failedDuringLoads = rounds
    .flatMap((round) => round.events)
    .reduce((sum, load) => sum + load.failed, 0);
  return [
    ...lines,
    '',
    `Failed events during the loads: ${failedDuringLoads}. Failover: ${FAILOVER_SENDERS} senders, 1 s deadline per event; the gap runs from the kill to the first acknowledged event sent after it.`,
    '',
  ].join('\n');
}
