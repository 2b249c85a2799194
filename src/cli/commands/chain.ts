/** `meshos chain create|append|read|tail|status|list|delete`: replicated chains through any endpoint. */
import type { ChainRecord, ChainStatus, ChainSummary } from '../../api/index.js';
import type { AcksPolicy, ChainSyncPolicy } from '../../chains/index.js';
import { bytesToText, type MeshClient } from '../../client/index.js';
import {
  backupAllChains,
  backupChain,
  type ChainBackupSummary,
  type ChainRestoreSummary,
  inspectChainBackup,
  restoreChain,
} from './chain-backup.js';
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
  readProcessInput,
  runSubcommand,
  type Subcommands,
  tableLines,
  UsageError,
  withClient,
} from './common.js';

export const CHAIN_USAGE = `usage:
  meshos chain create NAME --replicas N [--acks one|quorum|all] [--sync batch|interval:MS]
                           [--max-record-bytes N] [--retention-bytes N] [--retention-age-ms N]
  meshos chain append NAME DATA...     (one record per DATA; '-' reads one record per stdin line)
  meshos chain read NAME [--from OFFSET] [--limit N]
  meshos chain tail NAME [--from OFFSET] [--count N]   (follows new records until Ctrl-C)
  meshos chain status NAME
  meshos chain list
  meshos chain delete NAME
  meshos chain backup NAME FILE | --all DIR   (definition and committed records up to the commit
                                               offset at the start; SHA-256 at the end)
  meshos chain restore FILE [--name NEW]      (creates the chain, appends the records in order;
                                               refused if it holds records or the file is bad)
  meshos chain backup-status FILE             (checks the file; prints its header and record count)
options:
  --json                   machine-readable output (tail: one JSON object per record)
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379)
${CLIENT_TLS_OPTION_USAGE}`;

/** Records per Append when `append -` sends stdin lines. */
export const CLI_APPEND_BATCH_RECORDS = 1_000;
/** Payload bytes per Append when `append -` sends stdin lines (below the server's message limit). */
export const CLI_APPEND_BATCH_BYTES = 1024 * 1024;

export function parseAcks(text: string | undefined): AcksPolicy | undefined {
  if (text === undefined) return undefined;
  if (text === 'one' || text === 'quorum' || text === 'all') return text;
  throw new UsageError(`--acks must be one, quorum or all, got '${text}'`);
}

/** `batch` or `interval:MS`. */
export function parseSync(text: string | undefined): ChainSyncPolicy | undefined {
  if (text === undefined) return undefined;
  if (text === 'batch') return { mode: 'batch' };
  const interval = /^interval:(\d+)$/.exec(text);
  const intervalMs = interval === null ? Number.NaN : Number(interval[1]);
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) {
    throw new UsageError(`--sync must be batch or interval:MS with MS a positive integer, got '${text}'`);
  }
  return { mode: 'interval', intervalMs };
}

function chainName(args: string[], extra: string): string {
  const [name] = args;
  if (name === undefined || name === '') throw new UsageError(`expected NAME${extra}`);
  return name;
}

function exactlyName(args: string[]): string {
  if (args.length !== 1) throw new UsageError(`expected NAME, got ${args.length} argument(s)`);
  return chainName(args, '');
}

/**
 * A status as `status --json` prints it: `name, epoch, leader, replicas, acks` first, in that
 * order (leader null while there is none), then the rest.
 */
export function chainStatusJson(status: ChainStatus): Record<string, unknown> {
  return {
    name: status.name,
    epoch: status.epoch,
    leader: status.leader === 0 ? null : status.leader,
    replicas: status.replicas.map(({ node, offset, lag, healthy }) => ({ node, offset, lag, healthy })),
    acks: status.acks,
    commitOffset: status.commitOffset,
    startOffset: status.startOffset,
    ...(status.learners === undefined
      ? {}
      : {
          learners: status.learners.map(({ node, offset, lag, healthy }) => ({ node, offset, lag, healthy })),
        }),
  };
}

export function chainStatusLines(status: ChainStatus): string[] {
  const leader = status.leader === 0 ? 'none' : String(status.leader);
  const replicaLine = (kind: string, replica: ChainStatus['replicas'][number]): string =>
    `  ${kind} ${replica.node}: offset ${replica.offset}, lag ${replica.lag}, ${replica.healthy ? 'healthy' : 'UNHEALTHY'}`;
  return [
    `chain ${status.name}: epoch ${status.epoch}, leader ${leader}, acks ${status.acks}`,
    `  offsets: start ${status.startOffset}, commit ${status.commitOffset}`,
    ...status.replicas.map((replica) => replicaLine('replica', replica)),
    ...(status.learners ?? []).map((replica) => replicaLine('learner', replica)),
  ];
}

export function chainRecordJson(record: ChainRecord): Record<string, unknown> {
  return {
    offset: record.offset,
    epoch: record.epoch,
    appendedAtMs: record.appendedAtMs,
    payload: bytesToText(record.payload),
  };
}

/** A record as one line of text: its offset, a tab, its payload as UTF-8. */
export function chainRecordLine(record: ChainRecord): string {
  return `${record.offset}\t${bytesToText(record.payload)}`;
}

export function chainListLines(chains: readonly ChainSummary[]): string[] {
  const rows = chains.map((chain) => [
    chain.name,
    String(chain.epoch),
    chain.leader === 0 ? '-' : String(chain.leader),
    chain.acks,
    chain.replicas.join(','),
  ]);
  return tableLines(['NAME', 'EPOCH', 'LEADER', 'ACKS', 'REPLICAS'], rows);
}

/** Stdin lines as records, in batches bounded by count and bytes (a trailing newline adds none). */
export function batchesOfLines(input: string): string[][] {
  const lines = input.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const batches: string[][] = [];
  let batch: string[] = [];
  let batchBytes = 0;
  for (const line of lines.map((text) => text.replace(/\r$/, ''))) {
    const bytes = Buffer.byteLength(line);
    if (
      batch.length > 0 &&
      (batch.length >= CLI_APPEND_BATCH_RECORDS || batchBytes + bytes > CLI_APPEND_BATCH_BYTES)
    ) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(line);
    batchBytes += bytes;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

async function create(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    replicas: { type: 'string' },
    acks: { type: 'string' },
    sync: { type: 'string' },
    'max-record-bytes': { type: 'string' },
    'retention-bytes': { type: 'string' },
    'retention-age-ms': { type: 'string' },
  });
  const name = exactlyName(args);
  const replicas = integerOption('replicas', values.replicas);
  if (replicas === undefined || replicas < 1) throw new UsageError('--replicas N (at least 1) is required');
  const acks = parseAcks(values.acks);
  const sync = parseSync(values.sync);
  const maxRecordBytes = integerOption('max-record-bytes', values['max-record-bytes']);
  const maxBytes = integerOption('retention-bytes', values['retention-bytes']);
  const maxAgeMs = integerOption('retention-age-ms', values['retention-age-ms']);
  return printCall(
    io,
    values,
    (client) =>
      client.chains.create(name, {
        replicas,
        ...(acks === undefined ? {} : { acks }),
        ...(sync === undefined ? {} : { sync }),
        ...(maxRecordBytes === undefined ? {} : { maxRecordBytes }),
        ...(maxBytes === undefined && maxAgeMs === undefined
          ? {}
          : {
              retention: {
                ...(maxBytes === undefined ? {} : { maxBytes }),
                ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
              },
            }),
      }),
    chainStatusJson,
    chainStatusLines,
  );
}

async function append(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, { ...ENDPOINTS_OPTION, ...JSON_OPTION });
  const name = chainName(args, ' DATA...');
  const data = args.slice(1);
  if (data.length === 0) throw new UsageError('expected NAME DATA... (or NAME - to read stdin lines)');
  const batches =
    data.length === 1 && data[0] === '-'
      ? batchesOfLines(await (io.readInput ?? readProcessInput)())
      : [data];
  return withClient(clientTarget(values), async (client: MeshClient) => {
    for (const batch of batches) {
      const result = await client.chains.append(name, batch);
      if (values.json === true) io.out(JSON.stringify(result));
      else io.out(`appended offsets ${result.firstOffset}..${result.lastOffset} (epoch ${result.epoch})`);
    }
    return EXIT_OK;
  });
}

async function read(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    from: { type: 'string' },
    limit: { type: 'string' },
  });
  const name = exactlyName(args);
  const fromOffset = integerOption('from', values.from) ?? 0;
  const limit = integerOption('limit', values.limit);
  if (limit === 0) throw new UsageError('--limit must be at least 1');
  return printCall(
    io,
    values,
    (client) => client.chains.read(name, { fromOffset, ...(limit === undefined ? {} : { limit }) }),
    (result) => ({
      records: result.records.map(chainRecordJson),
      nextOffset: result.nextOffset,
      commitOffset: result.commitOffset,
    }),
    (result) => result.records.map(chainRecordLine),
  );
}

async function tail(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    from: { type: 'string' },
    count: { type: 'string' },
  });
  const name = exactlyName(args);
  const fromOffset = integerOption('from', values.from);
  const count = integerOption('count', values.count);
  if (count === 0) throw new UsageError('--count must be at least 1');
  return withClient(clientTarget(values), async (client) => {
    // Without --from, tail starts at the records committed from now on.
    const start = fromOffset ?? (await client.chains.status(name)).commitOffset;
    const subscription = client.chains.subscribe(name, { fromOffset: start });
    return printStream(io, subscription, count, (record) =>
      values.json === true ? JSON.stringify(chainRecordJson(record)) : chainRecordLine(record),
    );
  });
}

async function status(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, { ...ENDPOINTS_OPTION, ...JSON_OPTION });
  const name = exactlyName(args);
  return printCall(io, values, (client) => client.chains.status(name), chainStatusJson, chainStatusLines);
}

async function list(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, { ...ENDPOINTS_OPTION, ...JSON_OPTION });
  if (args.length !== 0) throw new UsageError(`list takes no arguments, got ${args.length}`);
  return printCall(
    io,
    values,
    (client) => client.chains.list(),
    (chains) => chains,
    chainListLines,
  );
}

async function remove(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, { ...ENDPOINTS_OPTION, ...JSON_OPTION });
  const name = exactlyName(args);
  return printCall(
    io,
    values,
    (client) => client.chains.delete(name),
    () => ({ deleted: name }),
    () => [`deleted ${name}`],
  );
}

function backupLine(summary: ChainBackupSummary): string {
  return `backed up chain ${summary.name} to ${summary.file}: ${summary.records} records of offsets ${summary.startOffset}..${summary.endOffset - 1} (${summary.bytes} bytes)`;
}

async function backup(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    all: { type: 'string' },
  });
  const directory = values.all;
  if (directory !== undefined && args.length !== 0)
    throw new UsageError('backup --all DIR takes no NAME or FILE');
  if (directory === undefined && args.length !== 2) throw new UsageError('expected NAME FILE (or --all DIR)');
  return printCall(
    io,
    values,
    async (client) =>
      directory === undefined
        ? [await backupChain(client, chainName(args, ' FILE'), args[1] as string)]
        : backupAllChains(client, directory),
    (summaries) => (directory === undefined ? summaries[0] : summaries),
    (summaries) => summaries.map(backupLine),
  );
}

function restoreLines(summary: ChainRestoreSummary): string[] {
  const offsets =
    summary.firstOffset === undefined ? '' : ` at offsets ${summary.firstOffset}..${summary.lastOffset}`;
  return [
    `restored ${summary.records} records into chain ${summary.name}${summary.created ? ' (created)' : ''}${offsets}`,
    `  (they had offsets ${summary.sourceStartOffset}..${summary.sourceEndOffset - 1} in the backed-up chain)`,
  ];
}

async function restore(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    ...JSON_OPTION,
    name: { type: 'string' },
  });
  if (args.length !== 1) throw new UsageError(`expected FILE, got ${args.length} argument(s)`);
  const file = args[0] as string;
  return printCall(
    io,
    values,
    (client) => restoreChain(client, file, values.name),
    (summary) => summary,
    restoreLines,
  );
}

async function backupStatus(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, { ...JSON_OPTION });
  if (args.length !== 1) throw new UsageError(`expected FILE, got ${args.length} argument(s)`);
  const { header, end } = await inspectChainBackup(args[0] as string);
  if (values.json === true) io.out(JSON.stringify({ ...header, records: end.records }));
  else {
    const { definition } = header;
    const sync = definition.sync.mode === 'batch' ? 'batch' : `interval:${definition.sync.intervalMs}`;
    io.out(
      `chain ${header.name}: ${end.records} records of offsets ${header.startOffset}..${header.endOffset - 1}, sha256 ok`,
    );
    io.out(
      `  replicas ${definition.replicas}, acks ${definition.acks}, sync ${sync}, saved ${new Date(header.savedAtMs).toISOString()}`,
    );
  }
  return EXIT_OK;
}

const SUBCOMMANDS: Subcommands = {
  backup,
  restore,
  'backup-status': backupStatus,
  create,
  append,
  read,
  tail,
  status,
  list,
  delete: remove,
};

/** `meshos chain ...`; argv starts after `chain`. */
export async function chainCommand(argv: string[], io: CommandIo): Promise<number> {
  return runSubcommand('chain', CHAIN_USAGE, SUBCOMMANDS, argv, io);
}
