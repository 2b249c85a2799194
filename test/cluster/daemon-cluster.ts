/**
 * Helpers of the multi-process daemons tests: a started cluster with a daemons client per node,
 * the status as the first answering node gives it, and the senders' history written to a file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { type DaemonSendOperation, daemonHistoryLines } from '../support/daemon-history.js';
import { until } from '../support/until.js';
import { eventually } from './chain-cluster.js';
import { ProcessCluster } from './process-cluster.js';
import { type RawDaemonStatus, RawDaemonsClient, RawDaemonsError } from './raw-daemons-client.js';

/** Starting node processes on a loaded 2-core machine took 20 s for 3 nodes. */
const STARTUP_TIMEOUT_MS = 90_000;
/** How long one status call of `awaitStatus` may take. */
const STATUS_CALL_TIMEOUT_MS = 5_000;

export const textOf = (payload: Uint8Array): string => new TextDecoder().decode(payload);

export interface DaemonCluster {
  readonly cluster: ProcessCluster;
  /** A client of each node's client port only, by node id. */
  readonly clients: ReadonlyMap<number, RawDaemonsClient>;
  readonly ids: readonly number[];
  client(id: number): RawDaemonsClient;
  /** The status of `daemon` as the first of `nodes` that answers gives it. */
  statusVia(
    daemon: string,
    nodes: readonly number[],
    timeoutMs: number,
  ): Promise<RawDaemonStatus | undefined>;
  /**
   * Waits until `daemon`'s status (through the first of `nodes` that answers) satisfies `holds`;
   * a timeout names the last status seen and the nodes' output.
   */
  awaitStatus(
    daemon: string,
    nodes: readonly number[],
    what: string,
    timeoutMs: number,
    holds: (status: RawDaemonStatus) => boolean,
  ): Promise<void>;
  /**
   * Deploys a fresh daemon through node `via`, tried again while the mesh settles. A retry refused
   * with DAEMON_EXISTS means an earlier attempt whose answer missed its deadline deployed it: the
   * daemon's status is then the answer.
   */
  deploy(
    via: number,
    daemon: string,
    kind: string,
    group: 'GROUP_SINGLE' | 'GROUP_STANDBY' | 'GROUP_REPLICA',
    members: number,
    timeoutMs: number,
  ): Promise<RawDaemonStatus>;
  stop(): Promise<void>;
}

/** Every member healthy and applied through its inbound chain's commit offset. */
export function everyMemberSynced(status: RawDaemonStatus): boolean {
  return status.members.every((member) => member.healthy && member.syncedThrough === status.inboundThrough);
}

/**
 * Writes the senders' history to `artifacts/cluster/<name>-history.jsonl` (HISTORY_FORMAT) and
 * answers a line saying where, with how many sends ended each way.
 */
export function writeSendHistory(name: string, operations: readonly DaemonSendOperation[]): string {
  const directory = path.resolve('artifacts', 'cluster');
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `${name}-history.jsonl`);
  writeFileSync(file, daemonHistoryLines(operations));
  const count = (status: string) => operations.filter((operation) => operation.status === status).length;
  return `daemon send history (${operations.length} sends: ${count('ok')} ok, ${count('fail')} fail, ${count('info')} info) written to ${file}`;
}

/**
 * `size` voters started with the built `meshos start` (with `nodeArguments` added), once they
 * agree on a Raft leader.
 */
export async function startDaemonCluster(
  size: number,
  options: { nodeArguments?: readonly string[] } = {},
): Promise<DaemonCluster> {
  const cluster = await ProcessCluster.create(size, options);
  const clients = new Map<number, RawDaemonsClient>();
  const stop = async (): Promise<void> => {
    for (const client of clients.values()) client.close();
    clients.clear();
    await cluster.stopAll();
  };
  try {
    cluster.startAll();
    await cluster.waitForLeader(STARTUP_TIMEOUT_MS);
  } catch (error) {
    await stop();
    throw error;
  }
  for (const plan of cluster.plans) clients.set(plan.id, new RawDaemonsClient(plan.client));
  const statusVia: DaemonCluster['statusVia'] = async (daemon, nodes, timeoutMs) => {
    for (const node of nodes) {
      const status = await clients
        .get(node)
        ?.status(daemon, timeoutMs)
        .catch(() => undefined);
      if (status !== undefined) return status;
    }
    return undefined;
  };
  return {
    cluster,
    clients,
    ids: cluster.plans.map((plan) => plan.id),
    client: (id) => clients.get(id)!,
    statusVia,
    async awaitStatus(daemon, nodes, what, timeoutMs, holds) {
      let last: RawDaemonStatus | undefined;
      try {
        await until(
          async () => {
            last = await statusVia(daemon, nodes, STATUS_CALL_TIMEOUT_MS);
            return last !== undefined && holds(last);
          },
          what,
          timeoutMs,
        );
      } catch (error) {
        throw new Error(
          `${(error as Error).message}; last status: ${JSON.stringify(last)}\n${cluster.describeOutput()}`,
        );
      }
    },
    deploy: (via, daemon, kind, group, members, timeoutMs) =>
      eventually('deploy', async () => {
        const client = clients.get(via)!;
        try {
          return await client.deploy(daemon, kind, group, members, timeoutMs);
        } catch (error) {
          if (error instanceof RawDaemonsError && error.code === 'DAEMON_EXISTS')
            return client.status(daemon, timeoutMs);
          throw error;
        }
      }),
    stop,
  };
}
