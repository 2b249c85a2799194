import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { type Address, formatAddress, parseAddress } from '../lib/index.js';
import { DataDirectoryLock, type MeshNode, type MeshNodeConfig, readCredentials } from '../mesh/index.js';
import { ensureNodeCertificate } from '../transport/index.js';
import { UsageError } from './commands/common.js';
import { FlagError } from './flag-error.js';
import {
  type CommandIo,
  runNode,
  STORAGE_OPTIONS,
  STORAGE_USAGE,
  storageConfigFromValues,
  usageOnParseError,
} from './node-commands.js';
import {
  CLIENT_TLS_OPTIONS,
  CLIENT_TLS_USAGE,
  clientTlsFromValues,
  userWithPasswordFile,
} from './role-flags.js';

/** How often a joined learner asks to be promoted while it catches up, and for how long. */
const PROMOTE_RETRY_INTERVAL_MS = 500;
const PROMOTE_GIVE_UP_AFTER_MS = 10 * 60_000;

export const JOIN_USAGE = `usage: meshos join --via CLIENT_HOST:PORT --data DIR --peer-listen H:P [options]

Adds this node to the cluster as a learner through any member's client API, starts it,
and asks for its promotion to voter once it has caught up.

options:
  --name NAME, --cluster ID, --client-listen H:P, --admin-listen H:P
  --certs DIR      the cluster CA directory (a certificate for the new id is issued when missing)
  --insecure       plaintext peer traffic, for loopback only
  --no-promote     stay a learner
  --via-cacert FILE  CA certificate (PEM) of a --via member whose client port serves TLS
  --via-cert FILE, --via-key FILE
                   client certificate and key (PEM) for a member with --client-cert-auth
  --via-user NAME, --via-password-file FILE
                   the etcd user to ask as when the cluster's auth is on (adding and promoting
                   a member is root's); the password is the file's first line
${STORAGE_USAGE}
${CLIENT_TLS_USAGE}`;

/** `meshos join` arguments checked before anything is read or dialled; usage errors or BAD_FLAGS. */
export function joinSettingsFromArguments(argv: readonly string[]) {
  const { values } = usageOnParseError(() =>
    parseArgs({
      args: [...argv],
      options: {
        via: { type: 'string' },
        name: { type: 'string' },
        cluster: { type: 'string', default: 'meshos-local' },
        data: { type: 'string' },
        'peer-listen': { type: 'string' },
        'client-listen': { type: 'string', default: '127.0.0.1:2379' },
        'admin-listen': { type: 'string', default: '127.0.0.1:2381' },
        certs: { type: 'string' },
        insecure: { type: 'boolean', default: false },
        'no-promote': { type: 'boolean', default: false },
        'via-cacert': { type: 'string' },
        'via-cert': { type: 'string' },
        'via-key': { type: 'string' },
        'via-user': { type: 'string' },
        'via-password-file': { type: 'string' },
        ...STORAGE_OPTIONS,
        ...CLIENT_TLS_OPTIONS,
      },
      strict: true,
    }),
  );
  const { via, data } = values;
  if (via === undefined) throw new UsageError('--via CLIENT_HOST:PORT of a member is required');
  if (data === undefined) throw new UsageError('--data DIR is required');
  if (values['peer-listen'] === undefined) throw new UsageError('--peer-listen H:P is required');
  if (!values.insecure && values.certs === undefined) throw new UsageError('give --certs DIR, or --insecure');
  const peerAddress = parseAddress(values['peer-listen']);
  const clientAddress = parseAddress(values['client-listen']);
  const adminAddress = parseAddress(values['admin-listen']);
  const storage = storageConfigFromValues(values);
  const problems: string[] = [];
  const clientTls = clientTlsFromValues(values, problems);
  const viaTls = viaTlsFromValues(values, problems);
  const viaUser = userWithPasswordFile(
    { user: '--via-user', passwordFile: '--via-password-file' },
    values['via-user'],
    values['via-password-file'],
    problems,
  );
  if (problems.length > 0) throw new FlagError(problems);
  return { values, via, data, peerAddress, clientAddress, adminAddress, storage, clientTls, viaTls, viaUser };
}

export async function joinCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, via, data, peerAddress, clientAddress, adminAddress, storage, clientTls, viaTls, viaUser } =
    joinSettingsFromArguments(argv);
  const viaCredentials = viaTls === undefined ? undefined : await readViaCredentials(viaTls);
  const viaAuth = viaUser === undefined ? undefined : await readCredentials(viaUser);
  // Taken before the cluster is asked for an id: a directory in use must not add a member.
  const lock = await DataDirectoryLock.acquire(path.resolve(data));
  const client = new Etcd3({
    hosts: [via],
    dialTimeout: 5_000,
    ...(viaCredentials === undefined ? {} : { credentials: viaCredentials }),
    ...(viaAuth === undefined ? {} : { auth: { username: viaAuth.user, password: viaAuth.password } }),
  });
  try {
    const before = await client.cluster.memberList({});
    const seedPeers = new Map<number, Address>();
    for (const member of before.members) {
      const url = member.peerURLs[0];
      if (url !== undefined) seedPeers.set(Number(member.ID), parseAddress(url.replace(/^[a-z]+:\/\//, '')));
    }
    const added = await client.cluster.memberAdd({
      peerURLs: [`http://${formatAddress(peerAddress)}`],
      isLearner: true,
    });
    const id = Number(added.member.ID);
    io.out(`joined cluster as learner ${id}; catching up`);
    if (values.certs !== undefined) await ensureNodeCertificate(path.resolve(values.certs), id);
    const config: MeshNodeConfig = {
      id,
      name: values.name ?? `n${id}`,
      clusterId: values.cluster,
      dataDirectory: path.resolve(data),
      peerAddress,
      clientAddress,
      adminAddress,
      initialPeers: new Map(),
      seedPeers,
      insecure: values.insecure,
      ...storage,
      ...(values.certs === undefined ? {} : { certificateDirectory: path.resolve(values.certs) }),
      ...(clientTls === undefined ? {} : { clientTls }),
    };
    const promote = values['no-promote']
      ? undefined
      : (node: MeshNode) => void promoteWhenCaughtUp(client, node, io);
    return await runNode(config, io, lock, promote);
  } finally {
    client.close();
    // The node released it on stop; this covers failures before the node started.
    await lock.release();
  }
}

/** `--via-cacert/--via-cert/--via-key`: TLS to the member named by `--via`. */
function viaTlsFromValues(
  values: {
    'via-cacert'?: string | undefined;
    'via-cert'?: string | undefined;
    'via-key'?: string | undefined;
  },
  problems: string[],
): { caFile: string; certificateFile?: string; keyFile?: string } | undefined {
  const caFile = values['via-cacert'];
  const certificateFile = values['via-cert'];
  const keyFile = values['via-key'];
  if ((certificateFile === undefined) !== (keyFile === undefined))
    problems.push('--via-cert and --via-key go together');
  if (caFile === undefined) {
    if (certificateFile !== undefined) problems.push('--via-cert/--via-key need --via-cacert');
    return undefined;
  }
  return {
    caFile,
    ...(certificateFile === undefined || keyFile === undefined ? {} : { certificateFile, keyFile }),
  };
}

async function readViaCredentials(files: { caFile: string; certificateFile?: string; keyFile?: string }) {
  const read = async (file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
    }
  };
  return {
    rootCertificate: await read(files.caFile),
    ...(files.certificateFile === undefined || files.keyFile === undefined
      ? {}
      : { certChain: await read(files.certificateFile), privateKey: await read(files.keyFile) }),
  };
}

/**
 * Asks for promotion once this node has applied everything committed that it knows of: a node
 * promoted while still replaying a long backlog would count in every quorum while it cannot
 * answer, so one slow peer more could make the leader lose its quorum (check-quorum) and cost
 * an election.
 */
async function promoteWhenCaughtUp(client: Etcd3, node: MeshNode, io: CommandIo): Promise<void> {
  const id = node.config.id;
  const deadline = Date.now() + PROMOTE_GIVE_UP_AFTER_MS;
  while (Date.now() < deadline && !node.raft.isRemoved) {
    try {
      if (node.raft.isReady()) {
        await client.cluster.memberPromote({ ID: String(id) });
        io.out(`node ${id} promoted to voter`);
        return;
      }
    } catch {
      // Not caught up in the leader's eyes yet, or no leader for a moment: ask again.
    }
    await new Promise((resolve) => setTimeout(resolve, PROMOTE_RETRY_INTERVAL_MS));
  }
  io.err(
    `node ${id} was not promoted within ${PROMOTE_GIVE_UP_AFTER_MS} ms; promote it with meshos member promote`,
  );
}
