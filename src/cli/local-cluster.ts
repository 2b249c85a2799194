import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPeerList } from '../mesh/index.js';
import { certificateFiles, createClusterCa, issueNodeCertificate } from '../transport/index.js';
import type { CommandIo } from './node-commands.js';

/** The embedded default: three nodes on loopback, data under ./.meshos, ports as etcd's. */
export const LOCAL_CLUSTER_SIZE = 3;
export const LOCAL_CLUSTER_ID = 'meshos-local';
export const LOCAL_DATA_DIRECTORY = '.meshos';
const PORT_STRIDE = 100;
const BASE_CLIENT_PORT = 2379;
const BASE_PEER_PORT = 2380;
const BASE_ADMIN_PORT = 2381;
/**
 * `npm start` compacts history older than a minute: watchers can resume after a minute's outage,
 * and at 5,000 writes a second about 300,000 revisions (~120 MB) stay in memory (etcd leaves
 * auto-compaction off by default, so a steady load grows memory without bound).
 */
export const LOCAL_AUTO_COMPACTION_MODE = 'periodic';
export const LOCAL_AUTO_COMPACTION_RETENTION = '1m';
/**
 * V8 flags for the node processes `npm start` spawns (the benchmarks' clusters use the same):
 * semi-spaces of at most 4 MB (V8's default grows them to 16 MB). About a fifth of what a loaded
 * member allocates survives a scavenge (requests in flight, records and log entries it keeps), so
 * a scavenge's pause grows with the young generation: under saturation on 2 shared cores
 * scavenges over 50 ms fell from 32-50 to 5-25 per member per run and the longest from
 * 140-240 ms to 70-180 ms, with as many full collections, the same RSS and no more CPU per put
 * (docs/BENCHMARKS.md, "Garbage collection under saturation"). 32 and 64 MB made every pause
 * longer. `meshos start` run by hand takes them through `node --max-semi-space-size=4` or
 * `NODE_OPTIONS`.
 */
export const NODE_PROCESS_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
/** How often the launcher asks the nodes who leads, to report changes. */
const LEADER_POLL_INTERVAL_MS = 250;
/** How long children get to stop after Ctrl-C before they are killed. */
const CHILD_STOP_TIMEOUT_MS = 10_000;

export interface LocalNodePlan {
  readonly id: number;
  readonly client: string;
  readonly peer: string;
  readonly admin: string;
  readonly data: string;
}

export function localClusterPlan(root: string, size = LOCAL_CLUSTER_SIZE, portOffset = 0): LocalNodePlan[] {
  return Array.from({ length: size }, (_, index) => {
    const id = index + 1;
    const shift = portOffset + index * PORT_STRIDE;
    return {
      id,
      client: `127.0.0.1:${BASE_CLIENT_PORT + shift}`,
      peer: `127.0.0.1:${BASE_PEER_PORT + shift}`,
      admin: `127.0.0.1:${BASE_ADMIN_PORT + shift}`,
      data: path.join(root, `n${id}`),
    };
  });
}

/** Creates the cluster CA and node certificates once; later starts reuse them. */
export async function ensureLocalCertificates(
  directory: string,
  plans: readonly LocalNodePlan[],
): Promise<void> {
  if (!existsSync(certificateFiles.caCertificate(directory)))
    await createClusterCa(directory, LOCAL_CLUSTER_ID);
  for (const plan of plans) {
    if (!existsSync(certificateFiles.nodeCertificate(directory, plan.id))) {
      await issueNodeCertificate(directory, plan.id, []);
    }
  }
}

export function nodeArguments(
  plan: LocalNodePlan,
  plans: readonly LocalNodePlan[],
  certificates: string,
): string[] {
  const peers = new Map(plans.map((other) => [other.id, parseHostPort(other.peer)]));
  return [
    'start',
    '--id',
    String(plan.id),
    '--cluster',
    LOCAL_CLUSTER_ID,
    '--data',
    plan.data,
    '--peers',
    formatPeerList(peers),
    '--client-listen',
    plan.client,
    '--admin-listen',
    plan.admin,
    '--certs',
    certificates,
    '--auto-compaction-mode',
    LOCAL_AUTO_COMPACTION_MODE,
    '--auto-compaction-retention',
    LOCAL_AUTO_COMPACTION_RETENTION,
  ];
}

function parseHostPort(text: string): { host: string; port: number } {
  const [host, port] = text.split(':');
  return { host: host ?? '127.0.0.1', port: Number(port) };
}

export function mainScript(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');
}

/** Asks a node's admin port for its status; undefined when it does not answer. */
export function fetchStatus(admin: string, timeoutMs = 1_000): Promise<Record<string, unknown> | undefined> {
  return fetchAdminJson(admin, '/status', timeoutMs);
}

/** GETs a JSON endpoint of a node's admin port; undefined when it does not answer JSON in time. */
export function fetchAdminJson(
  admin: string,
  pathname: string,
  timeoutMs = 1_000,
): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const request = http.get(`http://${admin}${pathname}`, { timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => {
        try {
          resolve(JSON.parse(body) as Record<string, unknown>);
        } catch {
          resolve(undefined);
        }
      });
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

/** `npm start`: runs the local cluster until Ctrl-C, then stops every node cleanly. */
export async function startLocalCluster(io: CommandIo): Promise<number> {
  const root = path.resolve(LOCAL_DATA_DIRECTORY);
  const plans = localClusterPlan(root);
  const certificates = path.join(root, 'certs');
  const resumed = plans.some((plan) => existsSync(plan.data));
  await ensureLocalCertificates(certificates, plans);
  io.out(`${resumed ? 'resuming' : 'creating'} local cluster '${LOCAL_CLUSTER_ID}' with data in ${root}`);
  const children: ChildProcess[] = plans.map((plan) => {
    const nodeCommand = [...NODE_PROCESS_V8_FLAGS, mainScript(), ...nodeArguments(plan, plans, certificates)];
    const child = spawn(process.execPath, nodeCommand, {
      stdio: ['ignore', 'pipe', 'inherit'],
      // Own process group: Ctrl-C reaches the launcher only, which then stops the nodes in order.
      detached: true,
      env: { ...process.env, MESHOS_LOG: process.env.MESHOS_LOG ?? 'warn' },
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.startsWith('node ')) io.out(`  ${line}`);
    });
    return child;
  });
  for (const plan of plans) {
    io.out(`  n${plan.id}: etcd API ${plan.client}  admin http://${plan.admin}  data ${plan.data}`);
  }
  io.out(
    `try: ETCDCTL_API=3 etcdctl --endpoints=${plans.map((plan) => plan.client).join(',')} put greeting hello`,
  );

  let lastLeader = 0;
  let stopping = false;
  const poll = setInterval(() => {
    void Promise.all(plans.map((plan) => fetchStatus(plan.admin, LEADER_POLL_INTERVAL_MS))).then(
      (statuses) => {
        const leaders = statuses.map((status) => Number(status?.leaderId ?? 0)).filter((id) => id !== 0);
        const leader = leaders[0] ?? 0;
        if (!stopping && leader !== 0 && leader !== lastLeader) {
          const term = statuses.find((status) => Number(status?.leaderId) === leader)?.term;
          io.out(`leader: n${leader} (term ${String(term)})`);
          lastLeader = leader;
        }
      },
    );
  }, LEADER_POLL_INTERVAL_MS);

  const exited = children.map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
  process.once('exit', () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      stopping = true;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    void Promise.race(exited).then(() => {
      if (stopping) return;
      io.err('a node exited on its own; stopping the local cluster');
      stop();
    });
  });
  clearInterval(poll);
  io.out('stopping the local cluster');
  for (const child of children) child.kill('SIGTERM');
  const killTimer = setTimeout(() => {
    for (const child of children) child.kill('SIGKILL');
  }, CHILD_STOP_TIMEOUT_MS);
  await Promise.all(exited);
  clearTimeout(killTimer);
  io.out('stopped');
  return 0;
}
