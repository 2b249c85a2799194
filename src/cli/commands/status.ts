/** `meshos status`: what each endpoint reports about itself and the cluster, and how far behind it is. */
import { type EndpointStatusResult, normalizeEndpoint } from '../../client/index.js';
import {
  type CommandIo,
  ENDPOINTS_OPTION,
  EXIT_FAILED,
  EXIT_OK,
  endpointsFrom,
  idToHex,
  parseCommandLine,
  runCommand,
  UsageError,
  withClient,
} from './common.js';

export const STATUS_USAGE = `usage:
  meshos status [--json]
options:
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379)
columns: endpoint, member id, leader id, term, raft index, applied index, revision,
         lag (entries this member has yet to apply behind the highest raft index seen)`;

const HEADINGS = ['ENDPOINT', 'ID', 'LEADER', 'TERM', 'RAFT INDEX', 'APPLIED', 'REVISION', 'LAG'];

/** Rows of the status table, one per endpoint; failed endpoints show their error. */
export function statusRows(results: readonly EndpointStatusResult[]): string[][] {
  const highestIndex = Math.max(0, ...results.map((result) => result.status?.raftIndex ?? 0));
  return results.map((result) => {
    const status = result.status;
    if (status === undefined) return [result.endpoint, `error: ${result.error.code}`, '', '', '', '', '', ''];
    return [
      result.endpoint,
      idToHex(status.memberId),
      status.leaderId === 0n ? 'none' : idToHex(status.leaderId),
      String(status.raftTerm),
      String(status.raftIndex),
      String(status.raftAppliedIndex),
      String(status.revision),
      String(Math.max(0, highestIndex - status.raftAppliedIndex)),
    ];
  });
}

/** Left-aligned columns separated by two spaces. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** `meshos status`; argv starts after `status`. */
export async function statusCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(io, STATUS_USAGE, async () => {
    const { values, positionals } = parseCommandLine(argv, {
      ...ENDPOINTS_OPTION,
      json: { type: 'boolean' },
    });
    if (positionals.length > 0)
      throw new UsageError(`status takes no arguments, got '${positionals.join(' ')}'`);
    const endpoints = endpointsFrom(values.endpoints);
    return withClient(endpoints, async (client) => {
      // Only the endpoints asked about, not ones learned from the member list.
      const asked = new Set(endpoints.map(normalizeEndpoint));
      const results = (await client.statusAll()).filter((result) => asked.has(result.endpoint));
      if (values.json === true) {
        const rows = statusRows(results);
        io.out(
          JSON.stringify(
            results.map((result, index) =>
              result.status === undefined
                ? {
                    endpoint: result.endpoint,
                    error: { code: result.error.code, message: result.error.message },
                  }
                : {
                    endpoint: result.endpoint,
                    id: idToHex(result.status.memberId),
                    leader: idToHex(result.status.leaderId),
                    term: result.status.raftTerm,
                    raftIndex: result.status.raftIndex,
                    appliedIndex: result.status.raftAppliedIndex,
                    revision: result.status.revision,
                    lag: Number(rows[index]?.[7] ?? 0),
                    version: result.status.version,
                    isLearner: result.status.isLearner,
                  },
            ),
          ),
        );
      } else {
        for (const line of formatTable([HEADINGS, ...statusRows(results)])) io.out(line);
      }
      for (const result of results) {
        if (result.error !== undefined) io.err(`meshos: ${result.endpoint}: ${result.error.message}`);
      }
      return results.every((result) => result.status !== undefined) ? EXIT_OK : EXIT_FAILED;
    });
  });
}
