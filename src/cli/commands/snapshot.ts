/**
 * `meshos snapshot save|status|restore`: a cluster's backup as a file that ends with its own
 * SHA-256 (as etcd's), what a file holds, and the data directory of a new cluster built from one
 * (docs/OPERATIONS.md "Backup and restore").
 */
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { formatAddress, type NodeId, nodeIdFromText } from '../../lib/index.js';
import type { SnapshotFileSummary } from '../../mesh/index.js';
import {
  type CommandIo,
  clientTarget,
  ENDPOINTS_OPTION,
  EXIT_OK,
  JSON_OPTION,
  parseCommandLine,
  runSubcommand,
  UsageError,
  withClient,
} from './common.js';

export const SNAPSHOT_USAGE = `usage:
  meshos snapshot save FILE [--endpoints a,b,c]
  meshos snapshot status FILE [--json]
  meshos snapshot restore FILE --data DIR --id N --initial-cluster ID=HOST:PORT,...
                          [--name NAME] [--cluster ID] [--skip-hash-check] [--json]
save: the leader's snapshot, padded to 512-byte pages and followed by its 32-byte SHA-256 (as
  etcd's; etcdctl snapshot save writes the same file)
status: checks the SHA-256 and prints revision, compact revision, keys, records, leases, the
  Raft index, the old members and the HashKV hash at the revision
restore: builds member N's data directory of a NEW cluster (run it once per member, with the
  same FILE and --initial-cluster), then start each member with meshos start on it
options:
  --endpoints a,b,c        client endpoints (default 127.0.0.1:2379)
  --data DIR               the new member's data directory; must not exist or be empty
  --id N                   the new member's id (etcd's --name picks the member: here the id does)
  --initial-cluster L      every new member as ID=HOST:PORT (its peer address, as meshos start
                          --peers; an http:// prefix is allowed); etcd's --initial-cluster
  --name NAME              the member's name (default nN)
  --cluster ID             the new cluster's id (default meshos-local); etcd's
                          --initial-cluster-token is taken as the same
  --initial-advertise-peer-urls URL
                          checked against this member's address in --initial-cluster
  --skip-hash-check        restore a file without (or with a wrong) SHA-256, as etcd's flag`;

/** Bytes of a snapshot file read (and hashed and decoded) at a time by status and restore. */
const SNAPSHOT_FILE_READ_BYTES = 1024 * 1024;

/** Bytes of a downloading snapshot gathered before each write to its file. */
const SAVE_WRITE_BYTES = 1024 * 1024;

/** Progress is reported each time another tenth of the snapshot has arrived. */
const PROGRESS_STEPS = 10;

/** `meshos snapshot ...`; argv starts after `snapshot`. */
export async function snapshotCommand(argv: string[], io: CommandIo): Promise<number> {
  return runSubcommand('snapshot', SNAPSHOT_USAGE, { save, status, restore }, argv, io);
}

/** The one FILE a subcommand takes. */
function onlyFile(subcommand: string, positionals: readonly string[]): string {
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError(`snapshot ${subcommand} takes one FILE`);
  return file;
}

async function save(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { ...ENDPOINTS_OPTION });
  const file = onlyFile('save', positionals);
  return withClient(clientTarget(values), async (client) => {
    let reportedStep = -1;
    // Written beside the target as it downloads, synced and renamed (as etcdctl does), so a crash
    // never leaves a half file under FILE and the snapshot is never held whole.
    const partial = `${file}.part`;
    const handle = await open(partial, 'w', 0o600);
    let position = 0;
    // Chunks (32 KiB each) are written SAVE_WRITE_BYTES at a time, one writev each.
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      const parts = pending;
      pending = [];
      if (parts.length > 0) await handle.writev(parts, position);
      position += pendingBytes;
      pendingBytes = 0;
    };
    let length: number;
    try {
      length = await client.snapshotTo(
        {
          restart: async () => {
            pending = [];
            pendingBytes = 0;
            position = 0;
            await handle.truncate(0);
          },
          write: async (chunk) => {
            pending.push(chunk);
            pendingBytes += chunk.length;
            if (pendingBytes >= SAVE_WRITE_BYTES) await flush();
          },
        },
        {
          onProgress: (received, total) => {
            const step = total === 0 ? PROGRESS_STEPS : Math.floor((received / total) * PROGRESS_STEPS);
            if (step === reportedStep) return;
            reportedStep = step;
            io.err(`snapshot: ${received} of ${total} bytes (${Math.round((step * 100) / PROGRESS_STEPS)}%)`);
          },
        },
      );
      await flush();
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(partial, { force: true });
      throw error;
    }
    await handle.close();
    await rename(partial, file);
    io.out(`Snapshot saved at ${file} (${length} bytes)`);
    return EXIT_OK;
  });
}

async function status(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { ...JSON_OPTION });
  const file = onlyFile('status', positionals);
  const { summarizeSnapshotFile } = await nodeCode();
  const summary = summarizeSnapshotFile(await openSnapshotFileAt(file));
  if (values.json === true) io.out(JSON.stringify(summary));
  else for (const line of summaryLines(summary)) io.out(line);
  return EXIT_OK;
}

/**
 * The node's code that reads and writes snapshot files and data directories, loaded by `status` and
 * `restore` when they run: `save` only talks to a cluster, and starts without it.
 */
async function nodeCode() {
  const [mesh, nodeIo] = await Promise.all([
    import('../../mesh/index.js'),
    import('../../lib/node/index.js'),
  ]);
  const { openSnapshotFile, parsePeerList, restoreDataDirectory, summarizeSnapshotFile } = mesh;
  return {
    NodeDisk: nodeIo.NodeDisk,
    openSnapshotFile,
    parsePeerList,
    restoreDataDirectory,
    summarizeSnapshotFile,
  };
}

/** The file checked and decoded as it is read, a part at a time: it is never held whole. */
async function openSnapshotFileAt(file: string, options: { skipHashCheck?: boolean } = {}) {
  const { openSnapshotFile } = await nodeCode();
  const { size } = await stat(file);
  return openSnapshotFile(
    file,
    createReadStream(file, { highWaterMark: SNAPSHOT_FILE_READ_BYTES }),
    size,
    options,
  );
}

function summaryLines(summary: SnapshotFileSummary): string[] {
  return [
    `file:             ${summary.file} (${summary.fileBytes} bytes)`,
    `sha256:           ${summary.hashChecked ? 'ok' : 'not checked'}`,
    `revision:         ${summary.revision}`,
    `compact revision: ${summary.compactRevision}`,
    `keys:             ${summary.keys}`,
    `records:          ${summary.records}`,
    `leases:           ${summary.leases}`,
    `raft index:       ${summary.raftIndex}`,
    `members:          ${summary.members.join(',')}`,
    `hashkv:           ${summary.hashKv} (at revision ${summary.revision})`,
  ];
}

const RESTORE_OPTIONS = {
  data: { type: 'string' },
  id: { type: 'string' },
  name: { type: 'string' },
  cluster: { type: 'string' },
  'initial-cluster': { type: 'string' },
  'initial-cluster-token': { type: 'string' },
  'initial-advertise-peer-urls': { type: 'string' },
  'skip-hash-check': { type: 'boolean', default: false },
  ...JSON_OPTION,
} as const;

async function restore(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, RESTORE_OPTIONS);
  const file = onlyFile('restore', positionals);
  if (values.data === undefined) throw new UsageError('snapshot restore needs --data DIR');
  const id = nodeIdFromText(values.id ?? '');
  if (id === undefined)
    throw new UsageError(`--id must be a positive integer (a node id), got '${values.id ?? ''}'`);
  const members = await initialCluster(values['initial-cluster']);
  const address = members.get(id);
  if (address === undefined) throw new UsageError(`--initial-cluster does not name member ${id}`);
  const advertised = values['initial-advertise-peer-urls'];
  if (advertised !== undefined && withoutScheme(advertised) !== formatAddress(address)) {
    throw new UsageError(
      `--initial-advertise-peer-urls ${advertised} is not member ${id}'s address ${formatAddress(address)} in --initial-cluster`,
    );
  }
  const clusterId = clusterIdFrom(values.cluster, values['initial-cluster-token']);
  const dataDirectory = path.resolve(values.data);
  const opened = await openSnapshotFileAt(file, { skipHashCheck: values['skip-hash-check'] });
  const { NodeDisk, restoreDataDirectory } = await nodeCode();
  const restored = await restoreDataDirectory(new NodeDisk(), opened, {
    dataDirectory,
    id,
    name: values.name ?? `n${id}`,
    clusterId,
    members,
  });
  if (values.json === true) {
    io.out(JSON.stringify({ dataDirectory, id, clusterId, ...restored }));
    return EXIT_OK;
  }
  io.out(
    `restored member ${id} of cluster '${clusterId}' into ${dataDirectory}: revision ${restored.revision}, raft index ${restored.raftIndex}, voters ${restored.voters.join(',')}`,
  );
  io.out(
    `start it with: meshos start --id ${id} --cluster ${clusterId} --data ${dataDirectory} --peers ${values['initial-cluster'] ?? ''} ...`,
  );
  return EXIT_OK;
}

/** `--initial-cluster ID=HOST:PORT,...`, each address with or without an http(s):// prefix. */
async function initialCluster(
  text: string | undefined,
): Promise<Map<NodeId, { host: string; port: number }>> {
  if (text === undefined) throw new UsageError('snapshot restore needs --initial-cluster ID=HOST:PORT,...');
  const { parsePeerList } = await nodeCode();
  const members = parsePeerList(
    text
      .split(',')
      .map((item) => item.replace(/=\s*[a-z]+:\/\//i, '='))
      .join(','),
  );
  if (members.size === 0) throw new UsageError('--initial-cluster names no member');
  return members;
}

function withoutScheme(url: string): string {
  return url
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/$/, '');
}

/** `--cluster`, or etcd's `--initial-cluster-token` for it; both given must agree. */
function clusterIdFrom(cluster: string | undefined, token: string | undefined): string {
  if (cluster !== undefined && token !== undefined && cluster !== token)
    throw new UsageError(`--cluster ${cluster} and --initial-cluster-token ${token} disagree`);
  return cluster ?? token ?? 'meshos-local';
}
