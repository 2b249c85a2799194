/** `meshos nodes`: the mesh's registered nodes, as any node (voter or worker) sees them. */
import { fetchAdminJson } from '../admin-json.js';
import {
  type CommandIo,
  EXIT_FAILED,
  EXIT_OK,
  endpointsFrom,
  parseCommandLine,
  runCommand,
  UsageError,
} from './common.js';
import { formatTable } from './status.js';

/** Where `meshos nodes` asks when not told: the admin port `meshos start` listens on by default. */
export const DEFAULT_ADMIN_ENDPOINT = '127.0.0.1:2381';
/** How long one admin endpoint gets to answer before the next is asked. */
export const NODES_REQUEST_TIMEOUT_MS = 3_000;

export const NODES_USAGE = `usage:
  meshos nodes [--json]
options:
  --endpoints a,b,c        admin HTTP ports of any nodes, voters or workers (default ${DEFAULT_ADMIN_ENDPOINT});
                           the first that answers is asked
columns: id, name, role, zone, health (alive; suspect: a connection to it closed; gone: its
         lease ended), seconds left on its lease, peer, client and admin addresses`;

const HEADINGS = ['ID', 'NAME', 'ROLE', 'ZONE', 'HEALTH', 'LEASE', 'PEER', 'CLIENT', 'ADMIN'];

interface ListedNode {
  readonly id: number;
  readonly name: string;
  readonly role: string;
  readonly zone: string;
  readonly health: string;
  readonly leaseRemainingSeconds?: number;
  readonly addresses: { readonly peer: string; readonly client?: string; readonly admin: string };
}

export function nodeRows(nodes: readonly ListedNode[]): string[][] {
  return nodes.map((node) => [
    String(node.id),
    node.name,
    node.role,
    node.zone === '' ? '-' : node.zone,
    node.health,
    node.leaseRemainingSeconds === undefined ? '?' : `${node.leaseRemainingSeconds}s`,
    node.addresses.peer,
    node.addresses.client ?? '-',
    node.addresses.admin,
  ]);
}

/**
 * Asks each admin endpoint in turn for `path` and answers the first report whose `field` is an
 * array; says on stderr why each one before it did not do.
 */
export async function firstAdminReport(
  endpoints: readonly string[],
  path: string,
  field: string,
  what: string,
  io: CommandIo,
): Promise<Record<string, unknown> | undefined> {
  for (const endpoint of endpoints) {
    const report = await fetchAdminJson(endpoint, path, NODES_REQUEST_TIMEOUT_MS);
    if (report !== undefined && Array.isArray(report[field])) return report;
    io.err(`meshos: ${endpoint}: no ${what} (not a MeshOS admin port, or not answering)`);
  }
  return undefined;
}

/** `meshos nodes`; argv starts after `nodes`. */
export async function nodesCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(io, NODES_USAGE, async () => {
    const { values, positionals } = parseCommandLine(argv, {
      endpoints: { type: 'string', default: DEFAULT_ADMIN_ENDPOINT },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0)
      throw new UsageError(`nodes takes no arguments, got '${positionals.join(' ')}'`);
    const report = await firstAdminReport(
      endpointsFrom(values.endpoints),
      '/nodes',
      'nodes',
      'node list',
      io,
    );
    if (report === undefined) return EXIT_FAILED;
    const nodes = report.nodes as ListedNode[];
    if (values.json === true) io.out(JSON.stringify(report));
    else for (const line of formatTable([HEADINGS, ...nodeRows(nodes)])) io.out(line);
    return EXIT_OK;
  });
}
