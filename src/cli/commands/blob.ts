/** `meshos blob put|get|status|list|delete`: content-addressed blobs through any endpoint (docs/BLOBS.md). */
import { constants, createReadStream } from 'node:fs';
import { access, open, rename, rm } from 'node:fs/promises';
import type { BlobStatus } from '../../blobs/index.js';
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
  runSubcommand,
  type Subcommands,
  tableLines,
  UsageError,
  withClient,
} from './common.js';

export const BLOB_USAGE = `usage:
  meshos blob put FILE [--replicas N]   prints the blob's id (the SHA-256 of FILE), once N nodes
                                        (default 1) hold a durable, checked copy
  meshos blob get ID [-o|--output FILE] the bytes, from the nearest holder (to stdout without -o;
                                        with -o FILE is written only once every byte checked out)
  meshos blob status ID
  meshos blob list
  meshos blob delete ID
options:
  --json                   machine-readable output (put, status, list)
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379)
${CLIENT_TLS_OPTION_USAGE}`;

/** Blob calls stay on the endpoints given: a get is served (and counted as a read) by the node asked. */
const ON_GIVEN_ENDPOINTS = { discoverLeader: false } as const;

/** Bytes read from FILE per chunk of a put. */
export const CLI_BLOB_READ_BYTES = 1024 * 1024;

function exactlyOne(args: string[], what: string): string {
  const [value] = args;
  if (args.length !== 1 || value === undefined || value === '')
    throw new UsageError(`expected ${what}, got ${args.length} argument(s)`);
  return value;
}

/** A status as `status --json` prints it: `id, size, replicas, holders: [{node, heat}]`, then `heat, readers`. */
export function blobStatusJson(status: BlobStatus): Record<string, unknown> {
  return {
    id: status.id,
    size: status.size,
    replicas: status.replicas,
    holders: status.holders.map(({ node, heat }) => ({ node, heat })),
    heat: status.heat,
    readers: status.readers.map(({ node, heat }) => ({ node, heat })),
  };
}

const heatText = (heat: number): string => heat.toFixed(2);

export function blobStatusLines(status: BlobStatus): string[] {
  const holders = new Set(status.holders.map((holder) => holder.node));
  return [
    `blob ${status.id}: ${status.size} bytes, ${status.replicas} copies asked for, ${status.holders.length} held, heat ${heatText(status.heat)}`,
    ...status.holders.map((holder) => `  holder ${holder.node}: heat ${heatText(holder.heat)}`),
    ...status.readers
      .filter((reader) => !holders.has(reader.node))
      .map((reader) => `  reader ${reader.node}: heat ${heatText(reader.heat)}`),
  ];
}

async function put(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, {
    replicas: { type: 'string' },
    ...JSON_OPTION,
    ...ENDPOINTS_OPTION,
  });
  const file = exactlyOne(positionals, 'FILE');
  const replicas = integerOption('replicas', values.replicas);
  if (replicas === 0) throw new UsageError('--replicas must be at least 1');
  // A missing or unreadable FILE is said plainly, before anything is sent.
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new UsageError(`cannot read FILE '${file}'`);
  }
  // Opened again for each attempt, so a put cut off is sent whole again.
  const source = () => createReadStream(file, { highWaterMark: CLI_BLOB_READ_BYTES });
  return printCall(
    io,
    values,
    (client) => client.blobs.put(source, replicas === undefined ? {} : { replicas }),
    (result) => ({ id: result.id, size: result.size, replicas: result.replicas, holders: result.holders }),
    (result) => [result.id],
    ON_GIVEN_ENDPOINTS,
  );
}

async function get(argv: string[], _io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, {
    output: { type: 'string', short: 'o' },
    ...ENDPOINTS_OPTION,
  });
  const id = exactlyOne(positionals, 'ID');
  const target = values.output;
  return withClient(
    clientTarget(values),
    async (client) => {
      const download = await client.blobs.get(id);
      if (target === undefined) {
        for await (const chunk of download.chunks) {
          if (!process.stdout.write(chunk))
            await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
        }
        return EXIT_OK;
      }
      const part = `${target}.part`;
      const file = await open(part, 'w');
      try {
        for await (const chunk of download.chunks) await file.write(chunk);
        await file.sync();
      } catch (error) {
        await file.close();
        await rm(part, { force: true });
        throw error;
      }
      await file.close();
      await rename(part, target);
      return EXIT_OK;
    },
    ON_GIVEN_ENDPOINTS,
  );
}

async function status(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { ...JSON_OPTION, ...ENDPOINTS_OPTION });
  const id = exactlyOne(positionals, 'ID');
  return printCall(
    io,
    values,
    (client) => client.blobs.status(id),
    blobStatusJson,
    blobStatusLines,
    ON_GIVEN_ENDPOINTS,
  );
}

async function list(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { ...JSON_OPTION, ...ENDPOINTS_OPTION });
  if (positionals.length > 0) throw new UsageError('list takes no arguments');
  return printCall(
    io,
    values,
    (client) => client.blobs.list(),
    (blobs) => blobs.map(blobStatusJson),
    (blobs) =>
      tableLines(
        ['ID', 'SIZE', 'REPLICAS', 'HOLDERS', 'HEAT'],
        blobs.map((blob) => [
          blob.id,
          String(blob.size),
          String(blob.replicas),
          blob.holders.map((holder) => holder.node).join(','),
          heatText(blob.heat),
        ]),
      ),
    ON_GIVEN_ENDPOINTS,
  );
}

async function remove(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { ...ENDPOINTS_OPTION });
  const id = exactlyOne(positionals, 'ID');
  await withClient(clientTarget(values), (client) => client.blobs.delete(id), ON_GIVEN_ENDPOINTS);
  io.out(`deleted ${id}`);
  return EXIT_OK;
}

const SUBCOMMANDS: Subcommands = { put, get, status, list, delete: remove };

export function blobCommand(argv: string[], io: CommandIo): Promise<number> {
  return runSubcommand('blob', BLOB_USAGE, SUBCOMMANDS, argv, io);
}
