/** `meshos kv get|put|del|watch|txn`: key-value commands against a cluster's client endpoints. */
import {
  bytesToText,
  type KeyValue,
  type MeshClient,
  type TxnOpResult,
  type TxnResult,
  type WatchEvent,
} from '../../client/index.js';
import {
  CLIENT_TLS_OPTION_USAGE,
  type CommandIo,
  clientTarget,
  ENDPOINTS_OPTION,
  EXIT_OK,
  integerOption,
  parseCommandLine,
  readProcessInput,
  runSubcommand,
  type Subcommands,
  stopRequested,
  UsageError,
  withClient,
} from './common.js';
import { parseTxnScript } from './txn-syntax.js';

export const KV_USAGE = `usage:
  meshos kv get KEY [--prefix] [--serializable] [--rev N] [--limit N] [--json]
  meshos kv put KEY VALUE [--lease ID]
  meshos kv del KEY [--prefix]
  meshos kv watch KEY [--prefix] [--rev N] [--count N] [--prev-kv]
  meshos kv txn            (reads compares, blank line, success ops, blank line, failure ops from stdin)
options:
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379)
${CLIENT_TLS_OPTION_USAGE}`;

function keyValueJson(kv: KeyValue): Record<string, unknown> {
  return {
    key: bytesToText(kv.key),
    value: bytesToText(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

/** A key and its value on two lines. */
function printKeyValue(io: CommandIo, kv: KeyValue): void {
  io.out(bytesToText(kv.key));
  io.out(bytesToText(kv.value));
}

function positionals(values: string[], count: number, names: string): string[] {
  if (values.length !== count) throw new UsageError(`expected ${names}, got ${values.length} argument(s)`);
  return values;
}

async function get(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    prefix: { type: 'boolean' },
    serializable: { type: 'boolean' },
    json: { type: 'boolean' },
    rev: { type: 'string' },
    limit: { type: 'string' },
  });
  const [key = ''] = positionals(args, 1, 'KEY');
  const revision = integerOption('rev', values.rev);
  const limit = integerOption('limit', values.limit);
  return withClient(clientTarget(values), async (client) => {
    const result = await client.range(key, {
      prefix: values.prefix === true,
      serializable: values.serializable === true,
      ...(revision === undefined ? {} : { revision }),
      ...(limit === undefined ? {} : { limit }),
    });
    if (values.json === true) {
      io.out(
        JSON.stringify({
          revision: result.header.revision,
          count: result.count,
          more: result.more,
          kvs: result.kvs.map(keyValueJson),
        }),
      );
    } else {
      for (const kv of result.kvs) printKeyValue(io, kv);
    }
    return EXIT_OK;
  });
}

async function put(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    lease: { type: 'string' },
  });
  const [key = '', value = ''] = positionals(args, 2, 'KEY VALUE');
  const lease = integerOption('lease', values.lease);
  return withClient(clientTarget(values), async (client) => {
    await client.put(key, value, lease === undefined ? {} : { lease });
    io.out('OK');
    return EXIT_OK;
  });
}

async function del(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    prefix: { type: 'boolean' },
  });
  const [key = ''] = positionals(args, 1, 'KEY');
  return withClient(clientTarget(values), async (client) => {
    const result = await client.delete(key, { prefix: values.prefix === true });
    io.out(String(result.deleted));
    return EXIT_OK;
  });
}

function printEvent(io: CommandIo, event: WatchEvent): void {
  io.out(event.type === 'put' ? 'PUT' : 'DELETE');
  printKeyValue(io, event.kv);
}

async function watch(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, {
    ...ENDPOINTS_OPTION,
    prefix: { type: 'boolean' },
    rev: { type: 'string' },
    count: { type: 'string' },
    'prev-kv': { type: 'boolean' },
  });
  const [key = ''] = positionals(args, 1, 'KEY');
  const startRevision = integerOption('rev', values.rev);
  const count = integerOption('count', values.count);
  if (count === 0) throw new UsageError('--count must be at least 1');
  return withClient(clientTarget(values), async (client) => {
    const watcher = await client.watch(key, {
      prefix: values.prefix === true,
      prevKv: values['prev-kv'] === true,
      ...(startRevision === undefined ? {} : { startRevision }),
    });
    const stop = stopRequested(io);
    const stopped = stop.promise.then(() => 'stopped' as const);
    let seen = 0;
    try {
      while (count === undefined || seen < count) {
        const next = await Promise.race([watcher.next(), stopped]);
        if (next === 'stopped' || next.done === true) break;
        printEvent(io, next.value);
        seen++;
      }
    } finally {
      stop.dispose();
      await watcher.return();
    }
    return EXIT_OK;
  });
}

function printOpResult(io: CommandIo, result: TxnOpResult): void {
  switch (result.type) {
    case 'put':
      io.out('OK');
      return;
    case 'delete':
      io.out(String(result.deleted));
      return;
    case 'range':
      for (const kv of result.kvs) printKeyValue(io, kv);
      return;
    case 'txn':
      printTxnResult(io, result);
      return;
  }
}

function printTxnResult(io: CommandIo, result: TxnResult): void {
  io.out(result.succeeded ? 'SUCCESS' : 'FAILURE');
  for (const response of result.responses) {
    io.out('');
    printOpResult(io, response);
  }
}

async function txn(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals: args } = parseCommandLine(argv, { ...ENDPOINTS_OPTION });
  positionals(args, 0, 'no arguments (the transaction is read from stdin)');
  const request = parseTxnScript(await (io.readInput ?? readProcessInput)());
  return withClient(clientTarget(values), async (client: MeshClient) => {
    printTxnResult(io, await client.txn(request));
    return EXIT_OK;
  });
}

const SUBCOMMANDS: Subcommands = {
  get,
  put,
  del,
  delete: del,
  watch,
  txn,
};

/** `meshos kv ...`; argv starts after `kv`. */
export async function kvCommand(argv: string[], io: CommandIo): Promise<number> {
  return runSubcommand('kv', KV_USAGE, SUBCOMMANDS, argv, io);
}
