/**
 * `meshos daemon deploy|list|status|send|state|outputs|move|remove`: daemons on the cluster through
 * any endpoint; `meshos daemon scale` writes the operator's member count to the control plane (the
 * voters' client ports), which reconcile then meets.
 */
import type { DaemonMoveResult, DaemonOutput, DaemonSendResult, DaemonStateResult } from '../../api/index.js';
import { bytesToText, type DaemonDeployOptions } from '../../client/index.js';
import type { DaemonDefinition, DaemonGroupKind, DaemonStatus, StandbyMode } from '../../daemons/index.js';
import {
  ADMIN_SCHEMA_VERSION,
  DaemonScaleClient,
  type DaemonScaleResult,
  type DaemonStatusDocument,
} from '../../mesh/index.js';
import { parseAcks } from './chain.js';
import {
  CLIENT_TLS_OPTION_USAGE,
  type CommandIo,
  clientTarget,
  ENDPOINTS_OPTION,
  EXIT_OK,
  integerOption,
  JSON_OPTION,
  parseCommandLine,
  printCall,
  printStream,
  runSubcommand,
  type Subcommands,
  tableLines,
  UsageError,
  withClient,
} from './common.js';

export const DAEMON_USAGE = `usage:
  meshos daemon deploy NAME --kind K --group single|standby|replica|fork --members N
                            [--config JSON] [--standby-mode hot|warm] [--acks one|quorum|all]
                            [--from PARENT [--at OFFSET]]   (fork: PARENT's state at OFFSET)
  meshos daemon list
  meshos daemon status NAME
  meshos daemon send NAME DATA [--key K] [--id CLIENT:SEQUENCE]
  meshos daemon state NAME [--member I]
  meshos daemon outputs NAME [--from SEQ] [--follow] [--count N] [--member I]
                                                         (--follow: until Ctrl-C)
  meshos daemon move NAME --to NODE
  meshos daemon scale NAME --members N    (standby or fork: reconcile starts or stops members,
                                           the active last; --endpoints: voters' client ports)
  meshos daemon remove NAME
options:
  --id CLIENT:SEQUENCE     the event's identity: a repeat of it is answered, not applied again
                           (and is sent again when its outcome is unknown); SEQUENCE is the
                           integer after the last ':', increasing per CLIENT
  --json                   machine-readable output (outputs: one JSON object per output)
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379)
${CLIENT_TLS_OPTION_USAGE}`;

const GROUPS: readonly DaemonGroupKind[] = ['single', 'standby', 'replica', 'fork'];

function daemonName(args: string[], expected: string, count: number): string {
  const [name] = args;
  if (args.length !== count || name === undefined || name === '') {
    throw new UsageError(`expected ${expected}, got ${args.length} argument(s)`);
  }
  return name;
}

export function parseGroup(text: string | undefined): DaemonGroupKind {
  if (text === undefined) throw new UsageError('--group single|standby|replica|fork is required');
  const group = GROUPS.find((candidate) => candidate === text);
  if (group === undefined)
    throw new UsageError(`--group must be single, standby, replica or fork, got '${text}'`);
  return group;
}

export function parseStandbyMode(text: string | undefined, group: DaemonGroupKind): StandbyMode | undefined {
  if (text === undefined) return undefined;
  if (text !== 'hot' && text !== 'warm')
    throw new UsageError(`--standby-mode must be hot or warm, got '${text}'`);
  if (group !== 'standby') throw new UsageError(`--standby-mode applies to standby groups, not ${group}`);
  return text;
}

export function parseConfig(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`--config must be JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `CLIENT:SEQUENCE`: the client id is everything before the last ':' (non-empty). */
export function parseEventId(text: string | undefined): { clientId: string; sequence: number } | undefined {
  if (text === undefined) return undefined;
  const colon = text.lastIndexOf(':');
  const clientId = colon < 0 ? '' : text.slice(0, colon);
  const digits = colon < 0 ? '' : text.slice(colon + 1);
  const sequence = /^\d+$/.test(digits) ? Number(digits) : Number.NaN;
  if (clientId === '' || !Number.isSafeInteger(sequence)) {
    throw new UsageError(`--id must be CLIENT:SEQUENCE (a non-empty client id, an integer), got '${text}'`);
  }
  return { clientId, sequence };
}

export function deployOptionsFrom(values: {
  kind?: string | undefined;
  group?: string | undefined;
  members?: string | undefined;
  config?: string | undefined;
  'standby-mode'?: string | undefined;
  acks?: string | undefined;
  from?: string | undefined;
  at?: string | undefined;
}): DaemonDeployOptions {
  if (values.kind === undefined || values.kind === '') throw new UsageError('--kind K is required');
  const group = parseGroup(values.group);
  const members = integerOption('members', values.members) ?? (group === 'single' ? 1 : undefined);
  if (members === undefined || members < 1) throw new UsageError('--members N (at least 1) is required');
  if (group === 'single' && members !== 1)
    throw new UsageError(`a single daemon has 1 member, not ${members}`);
  const config = parseConfig(values.config);
  const standbyMode = parseStandbyMode(values['standby-mode'], group);
  const acks = parseAcks(values.acks);
  const forkOf = parseForkOf(values.from, values.at, group);
  return {
    kind: values.kind,
    group,
    members,
    ...(config === undefined ? {} : { config }),
    ...(standbyMode === undefined ? {} : { standbyMode }),
    ...(acks === undefined ? {} : { acks }),
    ...(forkOf === undefined ? {} : { forkOf }),
  };
}

/** `--from PARENT [--at OFFSET]`: a fork group's parent and fork point (fork groups only). */
function parseForkOf(
  parent: string | undefined,
  at: string | undefined,
  group: DaemonGroupKind,
): DaemonDeployOptions['forkOf'] {
  if (group !== 'fork') {
    if (parent !== undefined || at !== undefined)
      throw new UsageError(`--from and --at apply to fork groups, not ${group}`);
    return undefined;
  }
  if (parent === undefined || parent === '') throw new UsageError('a fork group needs --from PARENT');
  const inboundOffset = integerOption('at', at);
  return inboundOffset === undefined ? { parent } : { parent, inboundOffset };
}

/** A status as `status --json` prints it: exactly these fields, in this order (docs/ADMIN_API.md). */
export function daemonStatusJson(status: DaemonStatus): DaemonStatusDocument {
  return {
    schemaVersion: ADMIN_SCHEMA_VERSION,
    name: status.name,
    kind: status.kind,
    group: status.group,
    epoch: status.epoch,
    members: status.members.map(({ index, node, role, syncedThrough, healthy }) => ({
      index,
      node,
      role,
      syncedThrough,
      healthy,
    })),
    inboundThrough: status.inboundThrough,
    ...(status.desiredMembers === undefined ? {} : { desiredMembers: status.desiredMembers }),
  };
}

export function daemonStatusLines(status: DaemonStatus): string[] {
  return [
    `daemon ${status.name}: kind ${status.kind}, group ${status.group}, epoch ${status.epoch}, inbound through ${status.inboundThrough}`,
    ...status.members.map(
      (member) =>
        `  member ${member.index} on node ${member.node}: ${member.role}, synced through ` +
        `${member.syncedThrough < 0 ? 'unknown' : member.syncedThrough}, ${member.healthy ? 'healthy' : 'UNHEALTHY'}`,
    ),
    ...desiredMembersLines(status),
  ];
}

/** The operator's count from `daemon scale`, and whether reconcile still moves towards it. */
function desiredMembersLines({ members, desiredMembers }: DaemonStatus): string[] {
  if (desiredMembers === undefined) return [];
  const placed = members.length;
  const pending =
    desiredMembers > placed
      ? ' (reconcile is starting members)'
      : desiredMembers < placed
        ? ' (reconcile is stopping members)'
        : '';
  return [`  members: ${placed} placed, ${desiredMembers} asked for${pending}`];
}

export function daemonListLines(daemons: readonly DaemonDefinition[]): string[] {
  const rows = daemons.map((daemon) => {
    const active = daemon.active === undefined ? undefined : daemon.members[daemon.active];
    return [
      daemon.name,
      daemon.kind,
      daemon.group,
      String(daemon.epoch),
      active === undefined ? '-' : String(active.node),
      daemon.members.map((member) => member.node).join(','),
      daemon.forkOf === undefined ? '-' : `${daemon.forkOf.parent}@${daemon.forkOf.inboundOffset}`,
    ];
  });
  return tableLines(['NAME', 'KIND', 'GROUP', 'EPOCH', 'ACTIVE', 'NODES', 'FORK OF'], rows);
}

export function sendResultJson(result: DaemonSendResult): Record<string, unknown> {
  return { ...result, outputs: result.outputs.map(bytesToText) };
}

export function sendResultLines(name: string, result: DaemonSendResult): string[] {
  return [
    `sent to ${name}: inbound offset ${result.inboundOffset}, member ${result.memberIndex}, epoch ${result.epoch}` +
      (result.duplicate ? ' (a duplicate: answered, not applied again)' : ''),
    ...result.outputs.map((output) => `  output: ${bytesToText(output)}`),
  ];
}

export function stateResultJson(result: DaemonStateResult): Record<string, unknown> {
  return { ...result, state: bytesToText(result.state) };
}

export function stateResultLines(result: DaemonStateResult): string[] {
  return [
    `daemon ${result.name}, member ${result.memberIndex} (epoch ${result.epoch}), applied through ${result.appliedThrough}:`,
    bytesToText(result.state),
  ];
}

export function outputJson(output: DaemonOutput): Record<string, unknown> {
  return { ...output, payload: bytesToText(output.payload) };
}

/** An output as one line of text: its sequence, a tab, its payload as UTF-8. */
export function outputLine(output: DaemonOutput): string {
  return `${output.sequence}\t${bytesToText(output.payload)}`;
}

export function moveResultLines(result: DaemonMoveResult): string[] {
  return [
    `moved ${result.name} from node ${result.from} to node ${result.to} (epoch ${result.epoch}), events paused ${result.pauseMs} ms`,
    ...result.phases.map((phase) => `  ${phase.phase}: ${phase.durationMs} ms`),
  ];
}

async function deploy(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    kind: { type: 'string' },
    group: { type: 'string' },
    members: { type: 'string' },
    config: { type: 'string' },
    'standby-mode': { type: 'string' },
    acks: { type: 'string' },
    from: { type: 'string' },
    at: { type: 'string' },
  });
  const name = daemonName(args, 'NAME', 1);
  const options = deployOptionsFrom(values);
  return printCall(
    io,
    values,
    (client) => client.daemons.deploy(name, options),
    daemonStatusJson,
    daemonStatusLines,
  );
}

async function list(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, { ...ENDPOINTS_OPTION, ...JSON_OPTION });
  if (args.length !== 0) throw new UsageError(`list takes no arguments, got ${args.length}`);
  return printCall(
    io,
    values,
    (client) => client.daemons.list(),
    (daemons) => daemons,
    daemonListLines,
  );
}

async function status(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, { ...ENDPOINTS_OPTION, ...JSON_OPTION });
  const name = daemonName(args, 'NAME', 1);
  return printCall(io, values, (client) => client.daemons.status(name), daemonStatusJson, daemonStatusLines);
}

async function send(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    key: { type: 'string' },
    id: { type: 'string' },
  });
  const name = daemonName(args, 'NAME DATA', 2);
  const data = args[1] ?? '';
  if (values.key === '') throw new UsageError('--key must not be empty (leave it out for no key)');
  const id = parseEventId(values.id);
  const key = values.key;
  // Here --key is the event's key; the TLS key comes by --cert-key.
  const { key: _eventKey, ...connection } = values;
  return printCall(
    io,
    connection,
    (client) => client.daemons.send(name, data, { ...(key === undefined ? {} : { key }), ...(id ?? {}) }),
    sendResultJson,
    (result) => sendResultLines(name, result),
  );
}

async function state(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    member: { type: 'string' },
  });
  const name = daemonName(args, 'NAME', 1);
  const member = integerOption('member', values.member);
  return printCall(
    io,
    values,
    (client) => client.daemons.state(name, member === undefined ? {} : { member }),
    stateResultJson,
    stateResultLines,
  );
}

async function outputs(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    from: { type: 'string' },
    follow: { type: 'boolean' },
    count: { type: 'string' },
    member: { type: 'string' },
  });
  const name = daemonName(args, 'NAME', 1);
  const fromSequence = integerOption('from', values.from) ?? 0;
  const member = integerOption('member', values.member);
  const count = integerOption('count', values.count);
  if (count === 0) throw new UsageError('--count must be at least 1');
  return withClient(clientTarget(values), async (client) => {
    const stream = client.daemons.outputs(name, {
      fromSequence,
      follow: values.follow === true,
      ...(member === undefined ? {} : { member }),
    });
    return printStream(io, stream, count, (output) =>
      values.json === true ? JSON.stringify(outputJson(output)) : outputLine(output),
    );
  });
}

async function move(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    to: { type: 'string' },
  });
  const name = daemonName(args, 'NAME', 1);
  const to = integerOption('to', values.to);
  if (to === undefined || to < 1) throw new UsageError('--to NODE (a node id, at least 1) is required');
  return printCall(
    io,
    values,
    (client) => client.daemons.move(name, to),
    (result) => result,
    moveResultLines,
  );
}

export function scaleResultLines(result: DaemonScaleResult): string[] {
  return [
    `daemon ${result.name} (${result.group}): ${result.members} members asked for, ${result.placed} placed now` +
      (result.members === result.placed ? '' : ' (reconcile starts or stops members to match)'),
  ];
}

async function scale(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    members: { type: 'string' },
  });
  const name = daemonName(args, 'NAME', 1);
  const members = integerOption('members', values.members);
  if (members === undefined) throw new UsageError('--members N is required');
  const client = await DaemonScaleClient.connect(clientTarget(values));
  try {
    const result = await client.scale(name, members);
    if (values.json === true) io.out(JSON.stringify(result));
    else for (const line of scaleResultLines(result)) io.out(line);
    return EXIT_OK;
  } finally {
    await client.close();
  }
}

async function remove(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, { ...ENDPOINTS_OPTION, ...JSON_OPTION });
  const name = daemonName(args, 'NAME', 1);
  return printCall(
    io,
    values,
    (client) => client.daemons.remove(name),
    () => ({ removed: name }),
    () => [`removed ${name}`],
  );
}

const SUBCOMMANDS: Subcommands = { deploy, list, status, send, state, outputs, move, scale, remove };

/** `meshos daemon ...`; argv starts after `daemon`. */
export async function daemonCommand(argv: string[], io: CommandIo): Promise<number> {
  return runSubcommand('daemon', DAEMON_USAGE, SUBCOMMANDS, argv, io);
}
