/** `meshos start --role voter|worker` and the membership flags both roles take. */
import { accessSync, constants } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BLOB_ORPHAN_GRACE_MS, blobOrphanGraceProblems } from '../blobs/index.js';
import {
  chainGracePeriodProblems,
  chainSegmentBytesProblems,
  DEFAULT_CHAIN_GRACE_PERIOD_MS,
  DEFAULT_CHAIN_SEGMENT_BYTES,
  DEFAULT_MAX_CHAINS_PER_NODE,
  MAX_CHAIN_SEGMENT_BYTES,
  MIN_CHAIN_SEGMENT_BYTES,
} from '../chains/index.js';
import { DEFAULT_DAEMON_REPAIR_GRACE_MS, daemonRepairGraceProblems } from '../daemons/cluster-limits.js';
import { parseAddress } from '../lib/index.js';
import {
  type ClientPortTlsFiles,
  type ControlPlaneCredentialFiles,
  type ControlPlaneTlsFiles,
  capacityProblems,
  checkpointEveryEventsProblems,
  DEFAULT_NODE_LEASE_TTL_SECONDS,
  MAX_MEMBER_CHECKPOINT_EVERY_EVENTS,
  MAX_NODE_LEASE_TTL_SECONDS,
  MEMBER_CHECKPOINT_EVERY_EVENTS,
  type MembershipConfig,
  MIN_MEMBER_CHECKPOINT_EVERY_EVENTS,
  MIN_NODE_LEASE_TTL_SECONDS,
  NODE_ROLES,
  type NodeCapacity,
  type NodeRole,
  type WorkerNodeConfig,
} from '../mesh/index.js';
import { FlagError } from './flag-error.js';

/** The client port's TLS flags, as etcd names them; voters, workers and `meshos join` take them. */
export const CLIENT_TLS_USAGE = `client TLS (plaintext without --cert-file):
  --cert-file FILE        serve the client port over TLS with this certificate (PEM; a node
                          certificate from 'meshos certs issue' serves)
  --key-file FILE         its private key (PEM)
  --trusted-ca-file FILE  CA that client certificates must chain to
  --client-cert-auth      refuse clients without a certificate signed by --trusted-ca-file`;

export const CLIENT_TLS_OPTIONS = {
  'cert-file': { type: 'string' },
  'key-file': { type: 'string' },
  'trusted-ca-file': { type: 'string' },
  'client-cert-auth': { type: 'boolean', default: false },
} as const;

export interface ClientTlsValues {
  readonly 'cert-file'?: string | undefined;
  readonly 'key-file'?: string | undefined;
  readonly 'trusted-ca-file'?: string | undefined;
  readonly 'client-cert-auth': boolean;
}

/**
 * `--cert-file`, `--key-file`, `--trusted-ca-file`, `--client-cert-auth` as the node config holds
 * them (undefined without `--cert-file`: plaintext); `problems` collects flags that do not fit
 * together and files that cannot be read.
 */
export function clientTlsFromValues(
  values: ClientTlsValues,
  problems: string[],
): ClientPortTlsFiles | undefined {
  const certificateFile = values['cert-file'];
  const keyFile = values['key-file'];
  const trustedCaFile = values['trusted-ca-file'];
  const clientCertificateAuth = values['client-cert-auth'];
  if ((certificateFile === undefined) !== (keyFile === undefined))
    problems.push('--cert-file and --key-file go together');
  if (clientCertificateAuth && trustedCaFile === undefined)
    problems.push(
      '--client-cert-auth needs --trusted-ca-file, the CA that client certificates must chain to',
    );
  if (certificateFile === undefined && (clientCertificateAuth || trustedCaFile !== undefined))
    problems.push(
      '--client-cert-auth and --trusted-ca-file need --cert-file and --key-file (TLS on the client port)',
    );
  const given = [
    ['--cert-file', certificateFile],
    ['--key-file', keyFile],
    ['--trusted-ca-file', trustedCaFile],
  ] as const;
  for (const [flag, file] of given) {
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (error) {
      problems.push(
        `${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
  }
  if (certificateFile === undefined || keyFile === undefined) return undefined;
  return {
    certificateFile: path.resolve(certificateFile),
    keyFile: path.resolve(keyFile),
    ...(trustedCaFile === undefined ? {} : { trustedCaFile: path.resolve(trustedCaFile) }),
    clientCertificateAuth,
  };
}

/** Where `meshos start` listens when not told: etcd's client port, and the admin port. */
export const DEFAULT_CLIENT_LISTEN = '127.0.0.1:2379';
export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:2381';

export const ROLE_USAGE = `roles:
  --role voter|worker     voter (default): runs Raft, the KV and the etcd API;
                          worker: no Raft, joins through --control-plane
  --control-plane H:P,... etcd v3 endpoints a worker uses: MeshOS voters' client ports or
                          an etcd cluster (worker only); the worker's id is allocated there
                          and kept in --data
  --control-plane-cacert FILE  CA certificate (PEM) of an https control plane (worker only)
  --control-plane-cert FILE    client certificate (PEM) for a control plane that requires one
  --control-plane-key FILE     its private key (PEM)
  --control-plane-user NAME    etcd user the worker acts as on a control plane with auth on
                               (readwrite on /meshos/v1/, or root; docs/SECURITY.md)
  --control-plane-password-file FILE
                               its password: the file's first line (never on the command line)
  --zone NAME             failure domain this node is in (rack, availability zone)
  --capacity R=N,...      what this node can carry (default cpus and memoryBytes of the machine);
                          chains=N: the most chains it holds (default ${DEFAULT_MAX_CHAINS_PER_NODE})
  --node-lease-ttl S      seconds without keep-alive before the node counts as gone (default ${DEFAULT_NODE_LEASE_TTL_SECONDS})
  --chain-repair-grace-ms N
                          how long a node must be gone before the chain coordinator (when
                          this node holds it) replaces its replicas (default ${DEFAULT_CHAIN_GRACE_PERIOD_MS})
  --daemon-repair-grace-ms N
                          how long a daemon member's node must be gone before the member is
                          replaced on another node (default ${DEFAULT_DAEMON_REPAIR_GRACE_MS})
  --blob-orphan-grace-ms N
                          how long a blob copy that no record names stays on this node's disk
                          before it is deleted (default ${BLOB_ORPHAN_GRACE_MS})
  --daemon-checkpoint-events N
                          a daemon member on this node saves a checkpoint every N applied
                          records, ${MIN_MEMBER_CHECKPOINT_EVERY_EVENTS} to ${MAX_MEMBER_CHECKPOINT_EVERY_EVENTS} (default ${MEMBER_CHECKPOINT_EVERY_EVENTS}); the inbound
                          chain is trimmed below the members' checkpoints
  --chain-segment-bytes N chain logs on this node start a new segment file at N bytes,
                          ${MIN_CHAIN_SEGMENT_BYTES} to ${MAX_CHAIN_SEGMENT_BYTES} (default ${DEFAULT_CHAIN_SEGMENT_BYTES}); retention and
                          trimming drop whole segments`;

export const ROLE_OPTIONS = {
  role: { type: 'string', default: 'voter' },
  'control-plane': { type: 'string' },
  'control-plane-cacert': { type: 'string' },
  'control-plane-cert': { type: 'string' },
  'control-plane-key': { type: 'string' },
  'control-plane-user': { type: 'string' },
  'control-plane-password-file': { type: 'string' },
  zone: { type: 'string', default: '' },
  capacity: { type: 'string' },
  'node-lease-ttl': { type: 'string' },
  'chain-repair-grace-ms': { type: 'string' },
  'daemon-repair-grace-ms': { type: 'string' },
  'blob-orphan-grace-ms': { type: 'string' },
  'daemon-checkpoint-events': { type: 'string' },
  'chain-segment-bytes': { type: 'string' },
} as const;

interface RoleValues {
  readonly role: string;
  readonly 'control-plane'?: string | undefined;
  readonly 'control-plane-cacert'?: string | undefined;
  readonly 'control-plane-cert'?: string | undefined;
  readonly 'control-plane-key'?: string | undefined;
  readonly 'control-plane-user'?: string | undefined;
  readonly 'control-plane-password-file'?: string | undefined;
  readonly zone: string;
  readonly capacity?: string | undefined;
  readonly 'node-lease-ttl'?: string | undefined;
  readonly 'chain-repair-grace-ms'?: string | undefined;
  readonly 'daemon-repair-grace-ms'?: string | undefined;
  readonly 'blob-orphan-grace-ms'?: string | undefined;
  readonly 'daemon-checkpoint-events'?: string | undefined;
  readonly 'chain-segment-bytes'?: string | undefined;
}

/** The role named by `--role`; BAD_FLAGS for anything else. */
export function roleFromValues(values: RoleValues): NodeRole {
  const role = NODE_ROLES.find((name) => name === values.role);
  if (role === undefined) throw new FlagError([`--role must be voter or worker, got '${values.role}'`]);
  return role;
}

/** The capacity of this machine, when `--capacity` is not given. */
export function machineCapacity(): NodeCapacity {
  return { cpus: os.availableParallelism(), memoryBytes: os.totalmem() };
}

/** Parses `cpus=4,memoryBytes=8589934592`. */
export function parseCapacity(text: string): { capacity: NodeCapacity; problems: string[] } {
  const capacity: Record<string, number> = {};
  const problems: string[] = [];
  for (const item of text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)) {
    const match = /^([^=]+)=(\d+)$/.exec(item);
    if (match === null) {
      problems.push(`--capacity: '${item}' is not RESOURCE=N`);
      continue;
    }
    capacity[match[1]!] = Number(match[2]);
  }
  problems.push(...capacityProblems(capacity).map((problem) => `--capacity: ${problem}`));
  return { capacity, problems };
}

/** Zone, capacity and lease TTL; `problems` collects what is wrong with them. */
export function membershipFromValues(values: RoleValues, problems: string[]): MembershipConfig {
  const ttlText = values['node-lease-ttl'];
  let leaseTtlSeconds = DEFAULT_NODE_LEASE_TTL_SECONDS;
  if (ttlText !== undefined) {
    leaseTtlSeconds = /^\d+$/.test(ttlText) ? Number(ttlText) : Number.NaN;
    if (!(leaseTtlSeconds >= MIN_NODE_LEASE_TTL_SECONDS && leaseTtlSeconds <= MAX_NODE_LEASE_TTL_SECONDS)) {
      problems.push(
        `--node-lease-ttl must be whole seconds from ${MIN_NODE_LEASE_TTL_SECONDS} to ${MAX_NODE_LEASE_TTL_SECONDS}, got '${ttlText}'`,
      );
    }
  }
  let capacity = machineCapacity();
  if (values.capacity !== undefined) {
    const parsed = parseCapacity(values.capacity);
    problems.push(...parsed.problems);
    capacity = parsed.capacity;
  }
  return { zone: values.zone, capacity, leaseTtlSeconds };
}

/** The flags that tune a node's services (whole numbers, each absent when not given). */
const SERVICE_TUNING_FLAGS = {
  'chain-repair-grace-ms': { field: 'chainRepairGraceMs', problemsOf: chainGracePeriodProblems },
  'daemon-repair-grace-ms': { field: 'daemonRepairGraceMs', problemsOf: daemonRepairGraceProblems },
  'blob-orphan-grace-ms': { field: 'blobOrphanGraceMs', problemsOf: blobOrphanGraceProblems },
  'daemon-checkpoint-events': { field: 'daemonCheckpointEvents', problemsOf: checkpointEveryEventsProblems },
  'chain-segment-bytes': { field: 'chainSegmentBytes', problemsOf: chainSegmentBytesProblems },
} as const satisfies Record<string, { field: string; problemsOf: (value: number) => string[] }>;

type ServiceTuningField = (typeof SERVICE_TUNING_FLAGS)[keyof typeof SERVICE_TUNING_FLAGS]['field'];

/**
 * `--chain-repair-grace-ms`, `--daemon-repair-grace-ms`, `--blob-orphan-grace-ms`,
 * `--daemon-checkpoint-events` and `--chain-segment-bytes` as the node config holds them (each
 * absent when not given); `problems` collects the ones that are not whole numbers in their bounds.
 */
export function serviceTuningFromValues(
  values: RoleValues,
  problems: string[],
): { readonly [field in ServiceTuningField]?: number } {
  const tuning: { [field in ServiceTuningField]?: number } = {};
  for (const [flag, { field, problemsOf }] of Object.entries(SERVICE_TUNING_FLAGS)) {
    const text = values[flag as keyof typeof SERVICE_TUNING_FLAGS];
    if (text === undefined) continue;
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    const found = problemsOf(value);
    problems.push(...found.map((problem) => `--${flag}: ${problem} ('${text}')`));
    if (found.length === 0) tuning[field] = value;
  }
  return tuning;
}

/** Parses `--control-plane a:1,b:2`. */
export function controlPlaneEndpoints(text: string, problems: string[]): string[] {
  const endpoints = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (endpoints.length === 0) problems.push('--control-plane needs at least one host:port');
  for (const endpoint of endpoints) {
    try {
      parseAddress(endpoint);
    } catch (error) {
      problems.push(`--control-plane: ${(error as Error).message}`);
    }
  }
  return endpoints;
}

/** Names of the `--flags` present in `argv` (given, not defaulted). */
export function givenFlags(argv: readonly string[]): Set<string> {
  return new Set(
    argv.filter((argument) => argument.startsWith('--')).map((argument) => argument.split('=')[0]!),
  );
}

/** The worker flags `meshos start --role worker` takes, as parsed. */
export interface WorkerValues extends RoleValues, ClientTlsValues {
  readonly name?: string | undefined;
  readonly cluster: string;
  readonly data?: string | undefined;
  readonly 'peer-listen'?: string | undefined;
  readonly 'client-listen'?: string | undefined;
  readonly 'admin-listen'?: string | undefined;
  readonly certs?: string | undefined;
  readonly insecure: boolean;
}

/**
 * A worker's settings from `meshos start --role worker`; `voterOnly` names the voter flags
 * that were given (a worker has no Raft, no KV and no fixed id), each a problem.
 */
export function workerConfigFromValues(values: WorkerValues, voterOnly: readonly string[]): WorkerNodeConfig {
  const problems = voterOnly.map((flag) => `${flag} is for voters; a worker has no Raft, KV or fixed id`);
  if (values.data === undefined) problems.push('--data DIR is required');
  if (values['peer-listen'] === undefined) problems.push('--peer-listen H:P is required for a worker');
  if (values['control-plane'] === undefined)
    problems.push('--control-plane H:P,... is required for a worker');
  if (!values.insecure && values.certs === undefined) {
    problems.push('give --certs DIR (see meshos certs init), or --insecure for plaintext on loopback');
  }
  const controlPlane = values['control-plane'];
  const endpoints = controlPlane === undefined ? [] : controlPlaneEndpoints(controlPlane, problems);
  const membership = membershipFromValues(values, problems);
  const tuning = serviceTuningFromValues(values, problems);
  const controlPlaneTls = controlPlaneTlsFromValues(values, problems);
  const controlPlaneCredentials = userWithPasswordFile(
    { user: '--control-plane-user', passwordFile: '--control-plane-password-file' },
    values['control-plane-user'],
    values['control-plane-password-file'],
    problems,
  );
  const clientTls = clientTlsFromValues(values, problems);
  const addressOf = (flag: string, text: string): ReturnType<typeof parseAddress> => {
    try {
      return parseAddress(text);
    } catch (error) {
      problems.push(`${flag}: ${(error as Error).message}`);
      return { host: '127.0.0.1', port: 0 };
    }
  };
  const peerAddress = addressOf('--peer-listen', values['peer-listen'] ?? '127.0.0.1:0');
  const clientAddress = addressOf('--client-listen', values['client-listen'] ?? DEFAULT_CLIENT_LISTEN);
  const adminAddress = addressOf('--admin-listen', values['admin-listen'] ?? DEFAULT_ADMIN_LISTEN);
  if (problems.length > 0) throw new FlagError(problems);
  return {
    ...(values.name === undefined ? {} : { name: values.name }),
    clusterId: values.cluster,
    dataDirectory: path.resolve(values.data ?? ''),
    peerAddress,
    clientAddress,
    adminAddress,
    controlPlaneEndpoints: endpoints,
    ...(controlPlaneTls === undefined ? {} : { controlPlaneTls }),
    ...(controlPlaneCredentials === undefined ? {} : { controlPlaneCredentials }),
    ...(clientTls === undefined ? {} : { clientTls }),
    membership,
    ...tuning,
    insecure: values.insecure,
    ...(values.certs === undefined ? {} : { certificateDirectory: path.resolve(values.certs) }),
  };
}

/**
 * A user flag and its password-file flag (`--control-plane-user` / `--control-plane-password-file`,
 * `meshos join`'s `--via-user` / `--via-password-file`): the etcd user a node acts as. The
 * password comes from a file only: a command line is visible to every user of the machine
 * (`ps`), so etcdctl's `--user NAME:PASSWORD` form is not taken.
 */
export function userWithPasswordFile(
  flags: { readonly user: string; readonly passwordFile: string },
  user: string | undefined,
  passwordFile: string | undefined,
  problems: string[],
): ControlPlaneCredentialFiles | undefined {
  if (user === undefined) {
    if (passwordFile !== undefined) problems.push(`${flags.passwordFile} needs ${flags.user}`);
    return undefined;
  }
  if (user === '' || user.includes(':'))
    problems.push(
      `${flags.user} must be a user name (the password goes in ${flags.passwordFile}), got '${user}'`,
    );
  if (passwordFile === undefined) {
    problems.push(`${flags.user} needs ${flags.passwordFile} FILE (the password, first line)`);
    return undefined;
  }
  try {
    accessSync(passwordFile, constants.R_OK);
  } catch (error) {
    problems.push(
      `${flags.passwordFile}: cannot read ${passwordFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  return { user, passwordFile: path.resolve(passwordFile) };
}

/** `--control-plane-cacert/-cert/-key`: files a worker reads each time it opens the control plane. */
function controlPlaneTlsFromValues(values: RoleValues, problems: string[]): ControlPlaneTlsFiles | undefined {
  const caFile = values['control-plane-cacert'];
  const certificateFile = values['control-plane-cert'];
  const keyFile = values['control-plane-key'];
  if ((certificateFile === undefined) !== (keyFile === undefined)) {
    problems.push('--control-plane-cert and --control-plane-key go together');
  }
  if (caFile === undefined) {
    if (certificateFile !== undefined || keyFile !== undefined) {
      problems.push('--control-plane-cert/--control-plane-key need --control-plane-cacert');
    }
    return undefined;
  }
  return {
    caFile: path.resolve(caFile),
    ...(certificateFile === undefined || keyFile === undefined
      ? {}
      : { certificateFile: path.resolve(certificateFile), keyFile: path.resolve(keyFile) }),
  };
}
