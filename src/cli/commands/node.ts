/**
 * `meshos node drain NODE` and `meshos node maintenance enter|exit|status NODE`: an operator asks
 * a node into or out of maintenance (docs/RECONCILE.md "Maintenance on a running mesh").
 * `meshos node avoid NODE|list|clear` keeps placement off a node for a while ("Operator avoid"). The
 * requests go to the control plane through `--endpoints` (voters' client ports); the node's own
 * maintenance agent drains it. `drain` waits for the outcome and shows progress.
 */
import { type NodeId, nodeIdFromText } from '../../lib/index.js';
import {
  AvoidClient,
  type AvoidListEntry,
  durationMs,
  MaintenanceClient,
  type MaintenanceStatus,
  versioned,
} from '../../mesh/index.js';
import {
  CLIENT_TLS_OPTION_USAGE,
  type CommandIo,
  clientTarget,
  DEFAULT_ENDPOINT,
  ENDPOINTS_OPTION,
  EXIT_FAILED,
  EXIT_OK,
  JSON_OPTION,
  parseCommandLine,
  runCommand,
  UsageError,
} from './common.js';

export const NODE_USAGE = `usage:
  meshos node drain NODE [--deadline D] [--json]
      ask NODE into maintenance and wait until it is drained (exit 0: Maintenance)
      or its drain failed (exit 1: DrainFailed, with the reason)
  meshos node maintenance enter NODE [--deadline D] [--json]
      ask NODE into maintenance: placement skips it, its daemons and chain replicas move away
  meshos node maintenance exit NODE [--ramp-up D] [--json]
      ask NODE back: ExitingMaintenance, then Recovery (avoided for the ramp-up), then Active
  meshos node maintenance status NODE [--json]
      its state, last request and what it still holds
  meshos node avoid NODE --ttl D --reason TEXT [--json]
      ask placement to skip NODE for D (the reconciler marks it: MarkAvoid, in meshos actions)
  meshos node avoid list [--json]
      the avoided nodes: operators' requests and the reconciler's own entries, with their ends
  meshos node avoid clear NODE
      end NODE's avoidance now
options:
  --endpoints a,b,c   client ports of voters (the control plane) (default ${DEFAULT_ENDPOINT})
${CLIENT_TLS_OPTION_USAGE}
  --deadline D        drain budget from now: 1500ms, 30s, 5m, 1h (default 5m)
  --ramp-up D         how long Recovery keeps the node avoided (default 60s)
  --ttl D             how long an avoid request lasts: 1s to 24h
  --reason TEXT       why, recorded with the request and in the audit`;

const OPTIONS = {
  ...ENDPOINTS_OPTION,
  deadline: { type: 'string' },
  'ramp-up': { type: 'string' },
  ttl: { type: 'string' },
  reason: { type: 'string' },
  ...JSON_OPTION,
} as const;

/** `meshos node ...`; argv starts after `node`. */
export async function nodeCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(io, NODE_USAGE, async () => {
    const { values, positionals } = parseCommandLine(argv, OPTIONS);
    const [verb, ...rest] = positionals;
    if (verb === 'avoid') return avoidCommand(rest, values, io);
    if (values.ttl !== undefined || values.reason !== undefined)
      throw new UsageError('--ttl and --reason go with node avoid');
    const action = verb === 'maintenance' ? rest.shift() : verb;
    if (verb === 'maintenance' && !['enter', 'exit', 'status'].includes(action ?? ''))
      throw new UsageError(`node maintenance needs enter, exit or status, got '${action ?? ''}'`);
    if (verb !== 'maintenance' && verb !== 'drain')
      throw new UsageError(
        verb === undefined ? 'node needs a subcommand' : `unknown node subcommand '${verb}'`,
      );
    if (rest.length !== 1)
      throw new UsageError(
        `node ${positionals.slice(0, verb === 'drain' ? 1 : 2).join(' ')} takes one NODE id`,
      );
    const node = nodeIdOf(rest[0]!);
    const deadlineMs = durationOption('deadline', values.deadline);
    const rampUpMs = durationOption('ramp-up', values['ramp-up']);
    if (deadlineMs !== undefined && action !== 'enter' && action !== 'drain')
      throw new UsageError('--deadline goes with drain and maintenance enter');
    if (rampUpMs !== undefined && action !== 'exit')
      throw new UsageError('--ramp-up goes with maintenance exit');
    const client = await MaintenanceClient.connect(clientTarget(values));
    try {
      const print = (status: MaintenanceStatus): void => {
        if (values.json === true) io.out(JSON.stringify(versioned(status)));
        else for (const line of statusLines(status)) io.out(line);
      };
      switch (action) {
        case 'drain': {
          const status = await client.drain(node, {
            ...(deadlineMs === undefined ? {} : { deadlineMs }),
            onProgress: (progress) => {
              if (values.json !== true) io.err(`node ${node}: ${progressLine(progress)}`);
            },
          });
          print(status);
          return status.state.phase === 'Maintenance' ? EXIT_OK : EXIT_FAILED;
        }
        case 'enter':
          print(await client.enter(node, deadlineMs === undefined ? {} : { deadlineMs }));
          return EXIT_OK;
        case 'exit':
          print(await client.exit(node, rampUpMs === undefined ? {} : { rampUpMs }));
          return EXIT_OK;
        default:
          print(await client.status(node));
          return EXIT_OK;
      }
    } finally {
      await client.close();
    }
  });
}

/** `meshos node avoid NODE --ttl D --reason TEXT`, `node avoid list`, `node avoid clear NODE`. */
async function avoidCommand(
  rest: readonly string[],
  values: { endpoints: string; ttl?: string; reason?: string; json?: boolean },
  io: CommandIo,
): Promise<number> {
  const [first, second, ...extra] = rest;
  const action = first === 'list' || first === 'clear' ? first : 'avoid';
  const nodeText = action === 'avoid' ? first : second;
  if (
    action === 'list'
      ? rest.length !== 1
      : nodeText === undefined || extra.length > 0 || (action === 'avoid' && second !== undefined)
  )
    throw new UsageError(
      action === 'list'
        ? 'node avoid list takes no NODE'
        : `node avoid${action === 'clear' ? ' clear' : ''} takes one NODE id`,
    );
  const ttlMs = durationOption('ttl', values.ttl);
  if (action === 'avoid' && (ttlMs === undefined || values.reason === undefined))
    throw new UsageError('node avoid NODE needs --ttl D and --reason TEXT');
  if (action !== 'avoid' && (ttlMs !== undefined || values.reason !== undefined))
    throw new UsageError(`--ttl and --reason go with node avoid NODE, not node avoid ${action}`);
  const client = await AvoidClient.connect(clientTarget(values));
  try {
    if (action === 'list') {
      const entries = await client.list();
      if (values.json === true) io.out(JSON.stringify(entries));
      else if (entries.length === 0) io.out('no node is avoided');
      else for (const entry of entries) io.out(avoidLine(entry));
      return EXIT_OK;
    }
    const node = nodeIdOf(nodeText!);
    if (action === 'clear') {
      await client.clear(node);
      io.out(`node ${node}: no longer avoided`);
      return EXIT_OK;
    }
    const record = await client.avoid(node, ttlMs!, values.reason!);
    if (values.json === true) io.out(JSON.stringify({ node, ...record }));
    else
      io.out(`node ${node}: avoided until ${new Date(record.untilWallMs).toISOString()} (${record.reason})`);
    return EXIT_OK;
  } finally {
    await client.close();
  }
}

function avoidLine(entry: AvoidListEntry): string {
  const marked = entry.source === 'operator' && entry.marked !== true ? ', not marked yet' : '';
  return `node ${entry.node}: avoided until ${new Date(entry.untilWallMs).toISOString()} by ${entry.source}${marked}: ${entry.reason}`;
}

function nodeIdOf(text: string): NodeId {
  const id = nodeIdFromText(text);
  if (id === undefined) throw new UsageError(`NODE must be a node id (a positive integer), got '${text}'`);
  return id;
}

function durationOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = durationMs(text, 'ms');
  if (value === undefined)
    throw new UsageError(`--${name} must be a duration like 1500ms, 30s, 5m or 1h, got '${text}'`);
  return value;
}

function progressLine(status: MaintenanceStatus): string {
  const { daemons, chains } = status.holdings;
  return `${status.state.phase}, ${daemons.length} daemon members and ${chains.length} chain replicas left`;
}

/** The status as text: the state with its times or reason, the request, what is left. */
export function statusLines(status: MaintenanceStatus): string[] {
  const { state } = status;
  const detail =
    state.phase === 'EnteringMaintenance'
      ? ` (drain deadline ${new Date(state.deadlineWallMs).toISOString()})`
      : state.phase === 'Recovery'
        ? ` (avoided until ${new Date(state.untilWallMs).toISOString()})`
        : state.phase === 'DrainFailed'
          ? `: ${state.reason}`
          : '';
  const lines = [`node ${status.node}: ${state.phase}${detail}`];
  if (status.request !== undefined)
    lines.push(
      `requested: ${status.request.target} at ${new Date(status.request.requestedAtWallMs).toISOString()}`,
    );
  if (status.empty) lines.push('holds: nothing');
  for (const member of status.holdings.daemons)
    lines.push(`holds: daemon ${member.daemon} member ${member.index} (${member.role})`);
  for (const replica of status.holdings.chains) lines.push(`holds: chain ${replica.chain} (${replica.role})`);
  for (const copy of status.holdings.blobs)
    lines.push(`holds: blob ${copy.blob} (${copy.kept} of ${copy.replicas} copies on other nodes)`);
  return lines;
}
