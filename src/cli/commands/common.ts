/**
 * What every client-side command shares: the io it writes through, the `--endpoints` option, usage
 * errors (exit 2) and operating errors (exit 1, printed with their code).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type ClientTlsOptions, MeshClient } from '../../client/index.js';
import { isMeshError } from '../../lib/index.js';
import { CLIENT_TLS_OPTION, type ClientTlsValues, clientTlsOptionsFrom } from './client-tls-flags.js';
import { CLIENT_USER_OPTION, type ClientUserValues, clientCredentialsFrom } from './client-user-flags.js';
import { UsageError } from './usage-error.js';

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  /** The whole standard input (for `kv txn`); reads process.stdin when unset. */
  readInput?: () => Promise<string>;
  /** Ends long-running commands (`kv watch`); SIGINT does when unset. */
  signal?: AbortSignal;
}

export type CommandHandler = (argv: string[], io: CommandIo) => Promise<number>;

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const DEFAULT_ENDPOINT = '127.0.0.1:2379';

export { UsageError } from './usage-error.js';

/** `--endpoints`, the TLS flags and `--user`/`--password` (etcdctl's names) every client command takes. */
export const ENDPOINTS_OPTION = {
  endpoints: { type: 'string', default: DEFAULT_ENDPOINT },
  ...CLIENT_TLS_OPTION,
  ...CLIENT_USER_OPTION,
} as const;

/** Usage lines of `CLIENT_TLS_OPTION`, for the commands' usage texts. */
export const CLIENT_TLS_OPTION_USAGE = `  --cacert FILE            CA certificate (PEM) of client ports serving TLS (https:// endpoints
                           alone trust the system's CAs)
  --cert FILE, --key FILE  client certificate and key (PEM) for ports with --client-cert-auth
                           (--cert-key FILE is --key, for 'daemon send', whose --key is the event's)
  --user NAME[:PASSWORD], --password PASSWORD, --password-file FILE
                           act as this user on a cluster with auth on (docs/SECURITY.md); the
                           file holds the password on one line, out of the shell's history`;

/** Where a client command connects: its endpoints, TLS when asked for, and the user it acts as. */
export interface ClientTarget {
  readonly endpoints: string[];
  readonly tls?: ClientTlsOptions;
  readonly credentials?: { readonly user: string; readonly password: string };
}

/** `--endpoints`, `--cacert`, `--cert` and `--key` as a client connects with them. */
export function clientTarget(
  values: ClientTlsValues & ClientUserValues & { readonly endpoints?: string | undefined },
): ClientTarget {
  const tls = clientTlsOptionsFrom(values);
  const credentials = clientCredentialsFrom(values);
  return {
    endpoints: endpointsFrom(values.endpoints),
    ...(tls === undefined ? {} : { tls }),
    ...(credentials === undefined ? {} : { credentials }),
  };
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs, strict, with its complaints turned into usage errors. */
export function parseCommandLine<T extends Options>(
  argv: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export function endpointsFrom(text: string | undefined): string[] {
  const endpoints = (text ?? DEFAULT_ENDPOINT)
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (endpoints.length === 0) throw new UsageError('--endpoints needs at least one host:port');
  return endpoints;
}

/** A non-negative integer option (revision, count, lease id); decimal or 0x-hex. */
export function integerOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = /^0x[0-9a-f]+$/i.test(text)
    ? Number.parseInt(text.slice(2), 16)
    : /^\d+$/.test(text)
      ? Number(text)
      : Number.NaN;
  if (!Number.isSafeInteger(value))
    throw new UsageError(`--${name} must be a non-negative integer, got '${text}'`);
  return value;
}

/** Connects, runs `body`, closes; usage and operating errors become exit codes. */
export async function runCommand(io: CommandIo, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`meshos: ${error.message}`);
      io.err(usage);
      return EXIT_USAGE;
    }
    if (isMeshError(error)) {
      io.err(`meshos: ${error.code}: ${error.message}`);
      return EXIT_FAILED;
    }
    throw error;
  }
}

/** Handlers of a command group's subcommands, by name. */
export type Subcommands = Readonly<Record<string, CommandHandler>>;

/** `meshos GROUP SUBCOMMAND ...` (argv starts after GROUP): runs the named subcommand's handler. */
export async function runSubcommand(
  group: string,
  usage: string,
  subcommands: Subcommands,
  argv: string[],
  io: CommandIo,
): Promise<number> {
  return runCommand(io, usage, async () => {
    const [subcommand, ...rest] = argv;
    const handler =
      subcommand !== undefined && Object.hasOwn(subcommands, subcommand)
        ? subcommands[subcommand]
        : undefined;
    if (handler === undefined) {
      throw new UsageError(
        subcommand === undefined
          ? `${group} needs a subcommand`
          : `unknown ${group} subcommand '${subcommand}'`,
      );
    }
    return handler(rest, io);
  });
}

/** `discoverLeader: false` keeps every call on the endpoints given (blobs: reads heat the node asked). */
export interface ConnectChoices {
  readonly discoverLeader?: boolean;
}

export async function withClient<T>(
  target: ClientTarget,
  body: (client: MeshClient) => Promise<T>,
  choices: ConnectChoices = {},
): Promise<T> {
  const client = await MeshClient.connect({ ...target, ...choices });
  try {
    return await body(client);
  } finally {
    client.close();
  }
}

/** Reads all of process.stdin as UTF-8. */
export async function readProcessInput(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Member and cluster ids are shown in hex, as etcd tools do. */
export function idToHex(id: bigint): string {
  return id.toString(16);
}

/** A member id as `member list` shows it (hex, optionally 0x-prefixed). */
export function parseMemberId(text: string): bigint {
  const digits = text.replace(/^0x/i, '');
  if (!/^[0-9a-f]{1,16}$/i.test(digits))
    throw new UsageError(`member ID must be hex (as 'member list' shows it), got '${text}'`);
  return BigInt(`0x${digits}`);
}

/** Resolves when the command should stop: the io's signal, or SIGINT when there is none. */
export function stopRequested(io: CommandIo): { promise: Promise<void>; dispose: () => void } {
  if (io.signal !== undefined) {
    const signal = io.signal;
    let onAbort = (): void => {};
    const promise = new Promise<void>((resolve) => {
      onAbort = resolve;
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
  }
  let onInterrupt = (): void => {};
  const promise = new Promise<void>((resolve) => {
    onInterrupt = resolve;
    process.once('SIGINT', onInterrupt);
  });
  return { promise, dispose: () => process.removeListener('SIGINT', onInterrupt) };
}

/** Rows under a header as columns two spaces apart, each as wide as its widest cell (the last one unpadded). */
export function tableLines(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  return [header, ...rows].map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  '),
  );
}

/** `--json`: machine-readable output. */
export const JSON_OPTION = { json: { type: 'boolean' } } as const;

/** Prints an answer: one line of JSON with `--json`, else its text lines. */
function printAnswer(
  io: CommandIo,
  json: boolean | undefined,
  asJson: () => unknown,
  asLines: () => readonly string[],
): number {
  if (json === true) io.out(JSON.stringify(asJson()));
  else for (const line of asLines()) io.out(line);
  return EXIT_OK;
}

/**
 * A unary command's whole run: connects to `--endpoints`, makes one call, prints its answer as
 * `printAnswer` does (one JSON line with `--json`, else its text lines), closes.
 */
export async function printCall<T>(
  io: CommandIo,
  values: ClientTlsValues & { readonly endpoints?: string | undefined; readonly json?: boolean | undefined },
  call: (client: MeshClient) => Promise<T>,
  asJson: (answer: T) => unknown,
  asLines: (answer: T) => readonly string[],
  choices: ConnectChoices = {},
): Promise<number> {
  return withClient(
    clientTarget(values),
    async (client) => {
      const answer = await call(client);
      return printAnswer(
        io,
        values.json,
        () => asJson(answer),
        () => asLines(answer),
      );
    },
    choices,
  );
}

/**
 * Prints one line per item of `stream` until it ends, `count` items were printed, or the command
 * is asked to stop (the io's signal, or SIGINT); the stream is closed in every case.
 */
export async function printStream<T>(
  io: CommandIo,
  stream: AsyncIterable<T> & { close(): void },
  count: number | undefined,
  line: (item: T) => string,
): Promise<number> {
  const stop = stopRequested(io);
  void stop.promise.then(() => stream.close());
  let seen = 0;
  try {
    for await (const item of stream) {
      io.out(line(item));
      seen += 1;
      if (count !== undefined && seen >= count) break;
    }
  } finally {
    stop.dispose();
    stream.close();
  }
  return EXIT_OK;
}
