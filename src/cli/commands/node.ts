/**
 * `meshos node drain NODE` and `meshos node maintenance enter|exit|status NODE`: an operator asks
 * a node into or out of maintenance (docs/RECONCILE.md "Maintenance on a running mesh"). The
 * requests go to the control plane through `--endpoints` (voters' client ports); the node's own
 * maintenance agent drains it. `drain` waits for the outcome and shows progress.
 */
import { type NodeId, nodeIdFromText } from '../../lib/index.js';
import { durationMs, MaintenanceClient, type MaintenanceStatus } from '../../mesh/index.js';
import {
  type CommandIo,
  DEFAULT_ENDPOINT,
  EXIT_FAILED,
  EXIT_OK,
  endpointsFrom,
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
options:
  --endpoints a,b,c   client ports of voters (the control plane) (default ${DEFAULT_ENDPOINT})
  --deadline D        drain budget from now: 1500ms, 30s, 5m, 1h (default 5m)
  --ramp-up D         how long Recovery keeps the node avoided (default 60s)`;

const OPTIONS = {
  endpoints: { type: 'string', default: DEFAULT_ENDPOINT },
  deadline: { type: 'string' },
  'ramp-up': { type: 'string' },
  ...JSON_OPTION,
} as const;

/** `meshos node ...`; argv starts after `node`. */
export async function nodeCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand(io, NODE_USAGE, async () => {
    const { values, positionals } = parseCommandLine(argv, OPTIONS);
    const [verb, ...rest] = positionals;
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
    const client = await MaintenanceClient.connect({ endpoints: endpointsFrom(values.endpoints) });
    try {
      const print = (status: MaintenanceStatus): void => {
        if (values.json === true) io.out(JSON.stringify(status));
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
  return lines;
}
