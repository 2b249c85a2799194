/** `meshos status`: what each endpoint reports about itself and the cluster, and how far behind it is. */
import { type EndpointStatusResult, normalizeEndpoint } from '../../client/index.js';
import type { ServiceTreeStatus } from '../../mesh/index.js';
import { fetchStatus } from '../admin-json.js';
import {
  CLIENT_TLS_OPTION_USAGE,
  type CommandIo,
  clientTarget,
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
  meshos status --admin a,b,c [--json]
options:
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379)
${CLIENT_TLS_OPTION_USAGE}
  --admin a,b,c            admin HTTP addresses: show each node's services instead
columns: endpoint, member id, leader id, term, raft index, applied index, revision,
         lag (entries this member has yet to apply behind the highest raft index seen)
with --admin: admin address, service, phase (starting, running, restarting, stopping,
         stopped, failed), restarts since the node started, policy, last exit reason`;

/** How long `meshos status --admin` waits for each admin port. */
export const ADMIN_STATUS_TIMEOUT_MS = 2_000;

const SERVICE_HEADINGS = ['ADMIN', 'SERVICE', 'PHASE', 'RESTARTS', 'POLICY', 'LAST EXIT'];

/** One node's service tree from its admin port, or why there is none. */
export interface AdminServiceResult {
  readonly admin: string;
  readonly id?: number;
  readonly tree?: ServiceTreeStatus;
  readonly error?: string;
}

/** Asks each admin port for `/status` and keeps its service tree. */
export async function fetchServiceTrees(admins: readonly string[]): Promise<AdminServiceResult[]> {
  return Promise.all(
    admins.map(async (admin): Promise<AdminServiceResult> => {
      const status = await fetchStatus(admin, ADMIN_STATUS_TIMEOUT_MS);
      if (status === undefined) return { admin, error: 'no answer' };
      const tree = status.services as ServiceTreeStatus | undefined;
      if (tree === undefined || !Array.isArray(tree.services))
        return { admin, error: 'no service tree in /status' };
      return { admin, id: Number(status.id), tree };
    }),
  );
}

/** Rows of the services table: one per service of each node, or one error row per node. */
export function serviceRows(results: readonly AdminServiceResult[]): string[][] {
  return results.flatMap((result) =>
    result.tree === undefined
      ? [[result.admin, `error: ${result.error ?? 'unknown'}`, '', '', '', '']]
      : result.tree.services.map((service) => [
          result.admin,
          service.name,
          service.phase,
          String(service.restarts),
          service.policy,
          service.lastExitReason ?? '',
        ]),
  );
}

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
      admin: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0)
      throw new UsageError(`status takes no arguments, got '${positionals.join(' ')}'`);
    if (values.admin !== undefined)
      return serviceStatus(endpointsFrom(values.admin), values.json === true, io);
    const target = clientTarget(values);
    return withClient(target, async (client) => {
      // Only the endpoints asked about, not ones learned from the member list.
      const asked = new Set(target.endpoints.map(normalizeEndpoint));
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

/** `meshos status --admin`: each node's services with phase and restart count. */
async function serviceStatus(admins: readonly string[], json: boolean, io: CommandIo): Promise<number> {
  const results = await fetchServiceTrees(admins);
  if (json) {
    io.out(
      JSON.stringify(
        results.map((result) =>
          result.tree === undefined
            ? { admin: result.admin, error: result.error }
            : {
                admin: result.admin,
                id: result.id,
                phase: result.tree.phase,
                services: result.tree.services,
              },
        ),
      ),
    );
  } else {
    for (const line of formatTable([SERVICE_HEADINGS, ...serviceRows(results)])) io.out(line);
  }
  for (const result of results) {
    if (result.error !== undefined) io.err(`meshos: ${result.admin}: ${result.error}`);
  }
  return results.every((result) => result.tree !== undefined) ? EXIT_OK : EXIT_FAILED;
}
