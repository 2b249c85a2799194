import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_DAEMON_MODULES } from '../daemons/index.js';
import { loadKindCatalog } from '../daemons/node/index.js';
import { formatAddress, isMeshError, type NodeId, nodeIdFromText, parseAddress } from '../lib/index.js';
import { createLogger } from '../lib/node/index.js';
import {
  type DataDirectoryLock,
  type MeshNode,
  type MeshNodeConfig,
  NodeBuilder,
  parseAutoCompaction,
  parsePeerList,
  ServiceFaults,
  type WorkerNodeConfig,
} from '../mesh/index.js';
import { createClusterCa, issueClientCertificate, issueNodeCertificate } from '../transport/index.js';
import { UsageError } from './commands/common.js';
import { FlagError } from './flag-error.js';
import {
  CLIENT_TLS_OPTIONS,
  CLIENT_TLS_USAGE,
  clientTlsFromValues,
  DEFAULT_ADMIN_LISTEN,
  DEFAULT_CLIENT_LISTEN,
  givenFlags,
  membershipFromValues,
  ROLE_OPTIONS,
  ROLE_USAGE,
  roleFromValues,
  serviceTuningFromValues,
  workerConfigFromValues,
} from './role-flags.js';

export interface CommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** `meshos start` and `meshos join` exit with this when the node was removed from its cluster. */
export const EXIT_MEMBER_REMOVED = 3;
/** ... and with this when a critical service of the node failed and the node stopped. */
export const EXIT_NODE_FAILED = 4;
/** ... and with this when a `--daemon-module` failed to load; the node did not start. */
export const EXIT_DAEMON_MODULE_FAILED = 5;
/**
 * Set to `1` for tests only: the node's admin port then serves `POST /faults/crash/<service>`,
 * which makes that service crash.
 */
export const FAULT_INJECTION_ENVIRONMENT_VARIABLE = 'MESHOS_FAULT_INJECTION';

/** A node id given on the command line: decimal, positive, at most 2^53-1 (`parseNodeId`). */
function nodeIdArgument(name: string, text: string | undefined): NodeId {
  const id = nodeIdFromText(text ?? '');
  if (id === undefined)
    throw new UsageError(`${name} must be a positive integer (a node id), got '${text ?? ''}'`);
  return id;
}

/** The space quota, auto-compaction and snapshot flags, taken by `meshos start` and `meshos join`. */
export const STORAGE_USAGE = `  --quota-backend-bytes N space quota: past it writes fail with NOSPACE until compaction
                          and 'etcdctl alarm disarm' (default 2147483648, as etcd)
  --auto-compaction-mode periodic|revision
                          what the retention counts (default periodic)
  --auto-compaction-retention R
                          history kept: a duration (30s, 5m, 1h; a bare number is hours)
                          or a number of revisions; 0 turns auto-compaction off (default 0)
  --snapshot-count N      applied entries between snapshots, after which the log is compacted
                          (default 100000, as etcd)`;

export const STORAGE_OPTIONS = {
  'quota-backend-bytes': { type: 'string' },
  'auto-compaction-mode': { type: 'string', default: 'periodic' },
  'auto-compaction-retention': { type: 'string', default: '0' },
  'snapshot-count': { type: 'string' },
} as const;

/** A flag's value as a positive whole number of `unit`, or undefined when the flag was not given. */
function positiveWholeNumber(flag: string, text: string | undefined, unit: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value <= 0) {
    throw new UsageError(`--${flag} must be a positive whole number of ${unit}`);
  }
  return value;
}

/** The node settings the storage flags give (only those that were set). */
export function storageConfigFromValues(values: {
  readonly 'quota-backend-bytes'?: string | undefined;
  readonly 'auto-compaction-mode': string;
  readonly 'auto-compaction-retention': string;
  readonly 'snapshot-count'?: string | undefined;
}): Pick<MeshNodeConfig, 'quotaBackendBytes' | 'autoCompaction' | 'snapshotCount'> {
  const quotaBackendBytes = positiveWholeNumber(
    'quota-backend-bytes',
    values['quota-backend-bytes'],
    'bytes',
  );
  const snapshotCount = positiveWholeNumber('snapshot-count', values['snapshot-count'], 'entries');
  const autoCompaction = parseAutoCompaction(
    values['auto-compaction-mode'],
    values['auto-compaction-retention'],
  );
  return {
    ...(quotaBackendBytes === undefined ? {} : { quotaBackendBytes }),
    ...(autoCompaction === undefined ? {} : { autoCompaction }),
    ...(snapshotCount === undefined ? {} : { snapshotCount }),
  };
}

export const START_USAGE = `usage: meshos start --id N --data DIR --peers ID=HOST:PORT,... [options]
       meshos start --role worker --control-plane H:P,... --data DIR --peer-listen H:P [options]

options:
  --name NAME             human name of the node (default nN)
  --cluster ID            cluster id (default meshos-local)
  --peer-listen H:P       Raft traffic (default: this node's address in --peers)
  --client-listen H:P     client port (default 127.0.0.1:2379): on a voter the etcd v3 API and
                          MeshOS's services (chains, daemons); on a worker MeshOS's only
  --admin-listen H:P      metrics, /health, /ready, /status (default 127.0.0.1:2381)
  --certs DIR             cluster CA and node certificates (meshos certs init/issue)
  --insecure              plaintext peer traffic, for loopback only
  --wal-thread-pool       write and fsync the log on the thread pool (slow disks)
  --daemon-module PATH    load the daemon kinds this ES module exports (repeatable); a module
                          that fails to load stops the start (docs/DAEMONS.md)
${STORAGE_USAGE}
${CLIENT_TLS_USAGE}
${ROLE_USAGE}`;

const NODE_OPTIONS = {
  id: { type: 'string' },
  name: { type: 'string' },
  cluster: { type: 'string', default: 'meshos-local' },
  data: { type: 'string' },
  peers: { type: 'string' },
  'peer-listen': { type: 'string' },
  'client-listen': { type: 'string' },
  'admin-listen': { type: 'string' },
  certs: { type: 'string' },
  insecure: { type: 'boolean', default: false },
  'wal-thread-pool': { type: 'boolean', default: false },
  'daemon-module': { type: 'string', multiple: true },
  ...STORAGE_OPTIONS,
  ...CLIENT_TLS_OPTIONS,
  ...ROLE_OPTIONS,
} as const;

/** Flags only a voter takes. */
const VOTER_ONLY_FLAGS = [
  '--id',
  '--peers',
  '--wal-thread-pool',
  ...Object.keys(STORAGE_OPTIONS).map((name) => `--${name}`),
];

/** What `meshos start` runs: a voter or a worker, with its settings. */
export type StartPlan =
  | { readonly role: 'voter'; readonly config: MeshNodeConfig }
  | { readonly role: 'worker'; readonly config: WorkerNodeConfig };

function parseNodeArguments(argv: readonly string[]) {
  return usageOnParseError(
    () => parseArgs({ args: [...argv], options: NODE_OPTIONS, strict: true, allowPositionals: false }).values,
  );
}

/**
 * Runs node:util's parseArgs, whose complaints (an unknown flag, a flag without its value, a
 * value for a switch, a stray positional) are TypeErrors, turning them into usage errors.
 */
export function usageOnParseError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if ((error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS_')) {
      throw new UsageError((error as Error).message);
    }
    throw error;
  }
}

/** `meshos start` arguments: `--role` picks the voter or the worker settings; BAD_FLAGS when they mix. */
export function startPlanFromArguments(argv: readonly string[]): StartPlan {
  const values = parseNodeArguments(argv);
  const given = givenFlags(argv);
  if (roleFromValues(values) === 'worker') {
    return {
      role: 'worker',
      config: {
        ...workerConfigFromValues(
          values,
          VOTER_ONLY_FLAGS.filter((flag) => given.has(flag)),
        ),
        ...daemonModulesFromValues(values),
      },
    };
  }
  const workerOnly = [...given].filter((flag) => flag.startsWith('--control-plane'));
  if (workerOnly.length > 0) {
    throw new FlagError(
      workerOnly.map((flag) => `${flag} is for workers (--role worker); a voter is the control plane`),
    );
  }
  return { role: 'voter', config: voterConfigFromValues(values) };
}

/** Builds a voter's configuration from `meshos start` arguments. */
export function nodeConfigFromArguments(argv: readonly string[]): MeshNodeConfig {
  return voterConfigFromValues(parseNodeArguments(argv));
}

function voterConfigFromValues(values: ReturnType<typeof parseNodeArguments>): MeshNodeConfig {
  const id = nodeIdArgument('--id', values.id);
  if (values.data === undefined) throw new UsageError('--data DIR is required');
  const initialPeers = parsePeerList(values.peers ?? '');
  if (initialPeers.size === 0) throw new UsageError('--peers is required (id=host:port,...)');
  const peerListen =
    values['peer-listen'] ?? (initialPeers.has(id) ? formatAddress(initialPeers.get(id)!) : undefined);
  if (peerListen === undefined)
    throw new UsageError('--peer-listen is required when --peers does not name this node');
  if (!values.insecure && values.certs === undefined) {
    throw new UsageError('give --certs DIR (see meshos certs init), or --insecure for plaintext on loopback');
  }
  const storage = storageConfigFromValues(values);
  const membershipProblems: string[] = [];
  const membership = membershipFromValues(values, membershipProblems);
  const tuning = serviceTuningFromValues(values, membershipProblems);
  const clientTls = clientTlsFromValues(values, membershipProblems);
  if (membershipProblems.length > 0) throw new FlagError(membershipProblems);
  return {
    id,
    name: values.name ?? `n${id}`,
    clusterId: values.cluster,
    dataDirectory: path.resolve(values.data),
    peerAddress: parseAddress(peerListen),
    clientAddress: parseAddress(values['client-listen'] ?? DEFAULT_CLIENT_LISTEN),
    adminAddress: parseAddress(values['admin-listen'] ?? DEFAULT_ADMIN_LISTEN),
    initialPeers,
    insecure: values.insecure,
    ...(values['wal-thread-pool'] ? { walOnThreadPool: true } : {}),
    ...storage,
    membership,
    ...daemonModulesFromValues(values),
    ...tuning,
    ...(values.certs === undefined ? {} : { certificateDirectory: path.resolve(values.certs) }),
    ...(clientTls === undefined ? {} : { clientTls }),
  };
}

/** The `--daemon-module` paths, made absolute; none when the flag is not given. */
function daemonModulesFromValues(values: { readonly 'daemon-module'?: string[] | undefined }): {
  readonly daemonModules?: readonly string[];
} {
  const paths = values['daemon-module'] ?? [];
  if (paths.length > MAX_DAEMON_MODULES) {
    throw new UsageError(`--daemon-module is given ${paths.length} times; at most ${MAX_DAEMON_MODULES}`);
  }
  return paths.length === 0 ? {} : { daemonModules: paths.map((modulePath) => path.resolve(modulePath)) };
}

/**
 * Loads the `--daemon-module` kinds before the node starts, so a module that fails to load
 * (DAEMON_MODULE_LOAD_FAILED) is said on stderr and the node refuses to start; true when all loaded.
 */
export async function daemonModulesLoad(
  modulePaths: readonly string[] | undefined,
  io: CommandIo,
): Promise<boolean> {
  try {
    await loadKindCatalog(modulePaths ?? []);
    return true;
  } catch (error) {
    if (!isMeshError(error, 'DAEMON_MODULE_LOAD_FAILED')) throw error;
    io.err(`meshos: the node does not start: ${error.message}`);
    return false;
  }
}

/**
 * Runs one node until SIGINT or SIGTERM (or its removal from the cluster), then stops it
 * cleanly; `onStarted` is told once the node serves.
 */
export async function runNode(
  config: MeshNodeConfig,
  io: CommandIo,
  dataDirectoryLock?: DataDirectoryLock,
  onStarted?: (node: MeshNode) => void,
): Promise<number> {
  const logger = createLogger(`meshos-${config.name}`);
  const faults = faultsFromEnvironment(io);
  let node: MeshNode;
  try {
    node = await new NodeBuilder(config, {
      logger,
      ...(dataDirectoryLock === undefined ? {} : { dataDirectoryLock }),
      ...(faults === undefined ? {} : { faults }),
    }).start();
  } catch (error) {
    if (!isMeshError(error, 'MEMBER_REMOVED')) throw error;
    io.err(
      `node ${config.id} was removed from its cluster; it does not start again from ${config.dataDirectory}: delete the directory, or join again with a new one.`,
    );
    return EXIT_MEMBER_REMOVED;
  }
  io.out(
    `node ${config.id} (${config.name}) up: client ${formatAddress(node.endpoints.client)}, peer ${formatAddress(node.endpoints.peer)}, admin http://${formatAddress(node.endpoints.admin)}`,
  );
  node.raft.onLeaderChange((info) => {
    if (info.leaderId !== 0) io.out(`leader is node ${info.leaderId} (term ${info.term})`);
  });
  onStarted?.(node);
  const exit = await runUntilSignalled(
    (signal) => node.run(signal),
    () => io.out(`node ${config.id} stopping`),
  );
  reportAbandonedServices(`node ${config.id}`, node.abandonedServices(), io);
  if (exit === 'removed') {
    io.err(
      `node ${config.id} was removed from the cluster (etcdctl member remove); it stopped and serves nothing more. Its data directory ${config.dataDirectory} belongs to no cluster now: delete it, or join again with a new one.`,
    );
    return EXIT_MEMBER_REMOVED;
  }
  if (exit === 'failed') {
    io.err(`node ${config.id} stopped: ${node.failure()?.message ?? 'a critical service failed'}`);
    return EXIT_NODE_FAILED;
  }
  io.out(`node ${config.id} stopped`);
  return 0;
}

/**
 * Names on stderr each service whose close the node stopped waiting for: what it still holds is
 * the first suspect when the process outlives its "stopped".
 */
export function reportAbandonedServices(who: string, abandoned: readonly string[], io: CommandIo): void {
  for (const service of abandoned) io.err(`${who}: service ${service}; its close goes on in the background`);
}

/** The crash switch `MESHOS_FAULT_INJECTION=1` asks for (tests only; said on stderr), or none. */
export function faultsFromEnvironment(io: CommandIo): ServiceFaults | undefined {
  if (process.env[FAULT_INJECTION_ENVIRONMENT_VARIABLE] !== '1') return undefined;
  io.err(`${FAULT_INJECTION_ENVIRONMENT_VARIABLE}=1: the admin port can crash services (tests only)`);
  return new ServiceFaults();
}

/**
 * Runs `serve` with a signal that SIGINT or SIGTERM aborts (`onSignal` is told first); the
 * handlers are removed once `serve` ends.
 */
export async function runUntilSignalled<T>(
  serve: (signal: AbortSignal) => Promise<T>,
  onSignal: () => void,
): Promise<T> {
  const shutdown = new AbortController();
  const stop = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    onSignal();
    shutdown.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await serve(shutdown.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export const CERTS_USAGE = `usage: meshos certs init --dir DIR [--cluster ID]
       meshos certs issue NODE_ID --dir DIR [--host NAME_OR_IP ...]
       meshos certs client NAME --dir DIR [--out DIR]

init    the cluster CA (ca.pem, ca-key.pem)
issue   node NODE_ID's certificate, for peer mutual TLS and the client port (--cert-file)
client  a client certificate with common name NAME (client-NAME.pem, client-NAME-key.pem in
        --out, default --dir), for clients of a port with --client-cert-auth`;

/**
 * `meshos certs init`, `meshos certs issue <node>` and `meshos certs client <name>`: the cluster
 * CA, node certificates and client certificates.
 */
export async function certsCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      dir: { type: 'string' },
      cluster: { type: 'string', default: 'meshos-local' },
      host: { type: 'string', multiple: true, default: [] },
      out: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.dir === undefined) throw new UsageError('--dir DIR is required');
  const directory = path.resolve(values.dir);
  if (positionals[0] === 'init') {
    await createClusterCa(directory, values.cluster);
    io.out(`cluster CA for '${values.cluster}' written to ${directory}`);
    return 0;
  }
  if (positionals[0] === 'issue') {
    const nodeId = nodeIdArgument('issue NODE_ID', positionals[1]);
    await issueNodeCertificate(directory, nodeId, values.host);
    io.out(`certificate for node ${nodeId} written to ${directory}`);
    return 0;
  }
  if (positionals[0] === 'client') {
    const name = positionals[1];
    if (name === undefined) throw new UsageError("certs client needs a NAME (the certificate's common name)");
    const out = path.resolve(values.out ?? values.dir);
    const files = await issueClientCertificate(directory, name, out);
    io.out(`client certificate for '${name}' written to ${files.certificateFile} (key ${files.keyFile})`);
    return 0;
  }
  throw new UsageError(CERTS_USAGE);
}
