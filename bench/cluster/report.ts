import type { LoadResult } from './load.js';
import type { MeasuredLoad, SystemResults } from './suite.js';

export interface ReportContext {
  readonly date: string;
  readonly machine: string;
  readonly versions: string;
  readonly notes: readonly string[];
}

type Direction = 'higher' | 'lower';

interface Row {
  readonly workload: string;
  readonly meshos: number | undefined;
  readonly etcd: number | undefined;
  readonly unit: string;
  readonly better: Direction;
  /** Target on the MeshOS/etcd ratio, e.g. `>= 1.5`. */
  readonly target?: { readonly bound: number; readonly direction: 'at-least' | 'at-most' };
}

function format(value: number | undefined, unit: string): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return 'none';
  if (unit === 'req/s') return `${Math.round(value)}`;
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

function ratio(row: Row): number | undefined {
  if (row.meshos === undefined || row.etcd === undefined || row.etcd === 0) return undefined;
  const value = row.meshos / row.etcd;
  return Number.isFinite(value) ? value : undefined;
}

function verdict(row: Row, value: number | undefined): string {
  if (row.target === undefined) return '';
  const bound = `${row.target.direction === 'at-least' ? '≥' : '≤'} ${row.target.bound}`;
  if (value === undefined) return `${bound}: not measured`;
  const met = row.target.direction === 'at-least' ? value >= row.target.bound : value <= row.target.bound;
  return `${bound}: ${met ? 'met' : 'missed'}`;
}

function loadRows(
  label: string,
  meshos: LoadResult | undefined,
  etcd: LoadResult | undefined,
  targeted: boolean,
  p99Targeted: boolean,
): Row[] {
  return [
    {
      workload: `${label} throughput`,
      meshos: meshos?.throughputPerSecond,
      etcd: etcd?.throughputPerSecond,
      unit: 'req/s',
      better: 'higher',
      ...(targeted ? { target: { bound: 1.5, direction: 'at-least' as const } } : {}),
    },
    { workload: `${label} p50`, meshos: meshos?.p50Ms, etcd: etcd?.p50Ms, unit: 'ms', better: 'lower' },
    {
      workload: `${label} p99`,
      meshos: meshos?.p99Ms,
      etcd: etcd?.p99Ms,
      unit: 'ms',
      better: 'lower',
      ...(p99Targeted ? { target: { bound: 1, direction: 'at-most' as const } } : {}),
    },
  ];
}

/** The markdown page: context, one table with MeshOS/etcd ratios, raw failover gaps, notes. */
export function renderReport(
  context: ReportContext,
  meshos: SystemResults | undefined,
  etcd: SystemResults | undefined,
): string {
  const rows: Row[] = [];
  const putPoints = new Map<string, number>();
  for (const put of [...(meshos?.puts ?? []), ...(etcd?.puts ?? [])])
    putPoints.set(put.workload, put.clients);
  for (const [workload, clients] of putPoints) {
    const targeted = clients >= 64;
    rows.push(
      ...loadRows(
        workload,
        meshos?.puts.find((put) => put.workload === workload),
        etcd?.puts.find((put) => put.workload === workload),
        targeted,
        targeted,
      ),
    );
  }
  const getClients = meshos?.linearizableGet.clients ?? etcd?.linearizableGet.clients ?? 0;
  rows.push(
    ...loadRows(
      `linearizable get ×${getClients}`,
      meshos?.linearizableGet,
      etcd?.linearizableGet,
      true,
      false,
    ),
  );
  rows.push(
    ...loadRows(
      `serializable get ×${getClients}`,
      meshos?.serializableGet,
      etcd?.serializableGet,
      false,
      false,
    ),
  );
  rows.push({
    workload: 'leader failover gap (median of runs)',
    meshos: meshos?.failoverGapMedianMs,
    etcd: etcd?.failoverGapMedianMs,
    unit: 'ms',
    better: 'lower',
    target: { bound: 0.25, direction: 'at-most' },
  });

  const lines = [
    '# MeshOS and etcd side by side',
    '',
    `Measured ${context.date} by \`npm run bench:etcd\` (bench/etcd-side-by-side.ts).`,
    '',
    `- Machine: ${context.machine}`,
    `- Versions: ${context.versions}`,
    '',
    '| workload | MeshOS | etcd | unit | MeshOS/etcd | target (ratio) |',
    '| --- | ---: | ---: | --- | ---: | --- |',
  ];
  for (const row of rows) {
    const value = ratio(row);
    lines.push(
      `| ${row.workload} | ${format(row.meshos, row.unit)} | ${format(row.etcd, row.unit)} | ${row.unit} | ${
        value === undefined ? 'n/a' : value.toFixed(2)
      } | ${verdict(row, value)} |`,
    );
  }
  const workloads = (results: SystemResults | undefined): Map<string, MeasuredLoad> => {
    const map = new Map<string, MeasuredLoad>();
    if (results === undefined) return map;
    for (const load of [...results.puts, results.linearizableGet, results.serializableGet])
      map.set(load.workload, load);
    return map;
  };
  const meshosLoads = workloads(meshos);
  const etcdLoads = workloads(etcd);
  lines.push(
    '',
    'CPU cost per request (user + system time of all 3 members over the load, divided by successful requests) is less sensitive to a busy machine than the rates above. The last two columns show how busy the load generator itself was (1.00 = one core all the time): near the share of the CPU it can get, it, not the cluster, bounds the rate.',
    '',
    '| workload | MeshOS CPU ms/request | etcd CPU ms/request | MeshOS/etcd | load generator cores (MeshOS run) | load generator cores (etcd run) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const name of new Set([...meshosLoads.keys(), ...etcdLoads.keys()])) {
    const mine = meshosLoads.get(name);
    const theirs = etcdLoads.get(name);
    const cost =
      mine === undefined || theirs === undefined || theirs.serverCpuMsPerRequest === 0
        ? 'n/a'
        : (mine.serverCpuMsPerRequest / theirs.serverCpuMsPerRequest).toFixed(2);
    lines.push(
      `| ${name} | ${mine?.serverCpuMsPerRequest.toFixed(3) ?? 'n/a'} | ${theirs?.serverCpuMsPerRequest.toFixed(3) ?? 'n/a'} | ${cost} | ${mine?.clientCores.toFixed(2) ?? 'n/a'} | ${theirs?.clientCores.toFixed(2) ?? 'n/a'} |`,
    );
  }
  const gaps = (results: SystemResults | undefined): string =>
    results === undefined ? 'not run' : results.failoverGapsMs.map((gap) => gap.toFixed(0)).join(', ');
  const failures = (results: SystemResults | undefined): string => {
    if (results === undefined) return 'not run';
    const all = [...results.puts, results.linearizableGet, results.serializableGet];
    const failed = all.reduce((sum, result) => sum + result.failed, 0);
    return `${failed}`;
  };
  lines.push(
    '',
    `Failover gaps of each run (ms): MeshOS ${gaps(meshos)}; etcd ${gaps(etcd)}.`,
    `Failed requests outside the failover runs: MeshOS ${failures(meshos)}; etcd ${failures(etcd)}.`,
    '',
    '## How it was measured',
    '',
    ...context.notes.map((note) => `- ${note}`),
    '',
  );
  return lines.join('\n');
}
