import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPeerList } from '../mesh/index.js';
import { certificateFiles, createClusterCa, issueNodeCertificate } from '../transport/index.js';
import { fetchStatus } from './admin-json.js';
import { type CommandIo, integerOption, parseCommandLine, UsageError } from './commands/common.js';
import { printTryLines, startDemo } from './demo/local-demo.js';
import { LocalNodeProcesses } from './local-node-processes.js';

/** The embedded default: three nodes on loopback, data under ./.meshos, ports as etcd's. */
export const LOCAL_CLUSTER_SIZE = 3;
export const LOCAL_CLUSTER_ID = 'meshos-local';
export const LOCAL_DATA_DIRECTORY = '.meshos';
const PORT_STRIDE = 100;
const BASE_CLIENT_PORT = 2379;
const BASE_PEER_PORT = 2380;
const BASE_ADMIN_PORT = 2381;
const MAX_PORT = 65_535;
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

/** Creates the cluster CA and the certificates of the nodes `plans` name once; later starts reuse them. */
export async function ensureLocalCertificates(
  directory: string,
  plans: readonly Pick<LocalNodePlan, 'id'>[],
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

export const START_LOCAL_USAGE = `usage: meshos start-local [--data DIR] [--base-port PORT] [--no-demo]
  (what \`npm start\` runs; \`npm start -- --no-demo\` passes flags through)
options:
  --data DIR        the cluster's data folder (default ./${LOCAL_DATA_DIRECTORY}); a later start resumes it
  --base-port PORT  node 1's client port (default ${BASE_CLIENT_PORT}); its peer and admin ports follow it,
                    and each next node's ports are ${PORT_STRIDE} higher
  --no-demo         run only the cluster: no sample app, no load`;

export interface LocalClusterOptions {
  readonly root: string;
  /** Whether `root` is the default folder (commands to try then need no `--data`). */
  readonly defaultRoot: boolean;
  readonly portOffset: number;
  readonly demo: boolean;
}

export function localClusterOptions(argv: string[]): LocalClusterOptions {
  const { values, positionals } = parseCommandLine(argv, {
    data: { type: 'string', default: LOCAL_DATA_DIRECTORY },
    'base-port': { type: 'string' },
    'no-demo': { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`start-local takes no arguments, got '${positionals[0]}'`);
  const basePort = integerOption('base-port', values['base-port']) ?? BASE_CLIENT_PORT;
  const highestPort =
    basePort + (LOCAL_CLUSTER_SIZE - 1) * PORT_STRIDE + (BASE_ADMIN_PORT - BASE_CLIENT_PORT);
  if (basePort < 1 || highestPort > MAX_PORT) {
    throw new UsageError(
      `--base-port must leave every node's ports between 1 and ${MAX_PORT}, got ${basePort}`,
    );
  }
  const root = path.resolve(values.data);
  return {
    root,
    defaultRoot: root === path.resolve(LOCAL_DATA_DIRECTORY),
    portOffset: basePort - BASE_CLIENT_PORT,
    demo: values['no-demo'] !== true,
  };
}

/** Prints which node leads whenever that changes, until the returned function is called. */
function reportLeaderChanges(plans: readonly LocalNodePlan[], io: CommandIo): () => void {
  let lastLeader = 0;
  let stopped = false;
  const poll = setInterval(() => {
    void Promise.all(plans.map((plan) => fetchStatus(plan.admin, LEADER_POLL_INTERVAL_MS))).then(
      (statuses) => {
        const leader = statuses.map((status) => Number(status?.leaderId ?? 0)).find((id) => id !== 0) ?? 0;
        if (!stopped && leader !== 0 && leader !== lastLeader) {
          const term = statuses.find((status) => Number(status?.leaderId) === leader)?.term;
          io.out(`leader: n${leader} (term ${String(term)})`);
          lastLeader = leader;
        }
      },
    );
  }, LEADER_POLL_INTERVAL_MS);
  return () => {
    stopped = true;
    clearInterval(poll);
  };
}

/** Resolves on Ctrl-C or SIGTERM. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `npm start`: runs the local cluster (and the demo) until Ctrl-C, then stops every node cleanly. */
export async function startLocalCluster(argv: string[], io: CommandIo): Promise<number> {
  const options = localClusterOptions(argv);
  const plans = localClusterPlan(options.root, LOCAL_CLUSTER_SIZE, options.portOffset);
  const certificates = path.join(options.root, 'certs');
  const resumed = plans.some((plan) => existsSync(plan.data));
  await ensureLocalCertificates(certificates, plans);
  io.out(
    `${resumed ? 'resuming' : 'creating'} local cluster '${LOCAL_CLUSTER_ID}' with data in ${options.root}`,
  );
  const nodes = new LocalNodeProcesses(
    options.root,
    LOCAL_CLUSTER_ID,
    plans.map((plan) => ({
      ...plan,
      argv: [...NODE_PROCESS_V8_FLAGS, mainScript(), ...nodeArguments(plan, plans, certificates)],
    })),
    io,
  );
  nodes.startAll();
  for (const plan of plans) {
    io.out(`  n${plan.id}: etcd API ${plan.client}  admin http://${plan.admin}  data ${plan.data}`);
  }
  const stopReporting = reportLeaderChanges(plans, io);
  const stopped = stopSignal();
  const demo = options.demo ? startDemo(options, plans, io) : undefined;
  if (demo === undefined) printTryLines(options, plans, io, false);
  const reason = await Promise.race([stopped.then(() => undefined), nodes.failed]);
  if (reason !== undefined) io.err(`${reason}; stopping the local cluster`);
  stopReporting();
  io.out('stopping the local cluster');
  await demo?.stop();
  await nodes.stop();
  io.out('stopped');
  return reason === undefined ? 0 : 1;
}
