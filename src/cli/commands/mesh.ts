/** `meshos mesh rtt`: the mesh's RTT matrix (every node's published row), as any node sees it. */
import type { RttReport, RttReportRow } from '../../mesh/index.js';
import {
  type CommandIo,
  EXIT_FAILED,
  EXIT_OK,
  endpointsFrom,
  parseCommandLine,
  runCommand,
  UsageError,
} from './common.js';
import { DEFAULT_ADMIN_ENDPOINT, firstAdminReport } from './nodes.js';
import { formatTable } from './status.js';

export const MESH_USAGE = `usage:
  meshos mesh rtt [--admin a,b,c] [--json]
options:
  --admin a,b,c            admin HTTP ports of any nodes, voters or workers (default ${DEFAULT_ADMIN_ENDPOINT});
                           the first that answers is asked
output: one row per node (as it published it; 'stale' when it stopped rewriting it), one column
        per peer it pings: smoothed RTT in ms, 'down' when the peer is unhealthy, '?' when not
        yet measured`;

/** One row per node, one column per node seen anywhere in the matrix. */
export function rttMatrixTable(rows: readonly RttReportRow[]): string[][] {
  const nodes = [...new Set(rows.flatMap((row) => [row.node, ...row.peers.map((peer) => peer.node)]))].sort(
    (a, b) => a - b,
  );
  const heading = ['FROM\\TO', ...nodes.map(String), 'ROW'];
  const body = rows.map((row) => {
    const peers = new Map(row.peers.map((peer) => [peer.node, peer]));
    const cells = nodes.map((node) => {
      if (node === row.node) return '-';
      const peer = peers.get(node);
      if (peer === undefined) return '';
      if (!peer.healthy) return 'down';
      return peer.rttMs === undefined ? '?' : peer.rttMs.toFixed(1);
    });
    return [String(row.node), ...cells, row.fresh ? 'fresh' : 'stale'];
  });
  return [heading, ...body];
}

/** `meshos mesh ...`; argv starts after `mesh`. */
export async function meshCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(io, MESH_USAGE, async () => {
    const { values, positionals } = parseCommandLine(argv, {
      admin: { type: 'string', default: DEFAULT_ADMIN_ENDPOINT },
      json: { type: 'boolean' },
    });
    const [subcommand, ...extra] = positionals;
    if (subcommand !== 'rtt') throw new UsageError(`unknown mesh subcommand '${subcommand ?? ''}'`);
    if (extra.length > 0) throw new UsageError(`mesh rtt takes no arguments, got '${extra.join(' ')}'`);
    const report = await firstAdminReport(endpointsFrom(values.admin), '/mesh/rtt', 'rows', 'RTT matrix', io);
    if (report === undefined) return EXIT_FAILED;
    const { rows } = report as unknown as RttReport;
    if (values.json === true) io.out(JSON.stringify(report));
    else for (const line of formatTable(rttMatrixTable(rows))) io.out(line);
    return EXIT_OK;
  });
}
