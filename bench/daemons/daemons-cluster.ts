import * as grpc from '@grpc/grpc-js';
import { daemonsServiceDefinition, etcdServices } from '../../src/api/proto.js';
import { MeshClient } from '../../src/client/index.js';
import type { DaemonStatus } from '../../src/daemons/index.js';
import type { ChainAppender } from '../chains/chains-system.js';
import {
  clusterOptionsFromEnvironment,
  MeshosCluster,
  type MeshosClusterOptions,
} from '../cluster/meshos-cluster.js';
import { sleep } from '../cluster/processes.js';
import { grpcRequestFrame, RawKvChannels } from '../cluster/raw-kv-channels.js';

export const DAEMON_NAME = 'bench-counter';
export const DAEMON_MEMBERS = 3;
const POLL_INTERVAL_MS = 50;
const ADMIN_CALL_TIMEOUT_MS = 2_000;
/** Connections per node that the senders share (as the KV put load's channels). */
export const SENDER_CONNECTIONS_PER_NODE = 2;

const sendMethod = () => daemonsServiceDefinition().Send as grpc.MethodDefinition<object, unknown>;

/**
 * The daemons bench's cluster: three `meshos start` processes (TLS peers, fsync on, as in
 * production), a client for status and deploys, and senders of `counter` events over the same
 * cheap HTTP/2 client the KV put load uses, so the two rates compare like for like.
 */
export class DaemonsBenchCluster {
  private admin: MeshClient | undefined;

  private constructor(readonly processes: MeshosCluster) {}

  static async start(
    timeoutMs: number,
    options: MeshosClusterOptions = clusterOptionsFromEnvironment(),
  ): Promise<DaemonsBenchCluster> {
    const processes = await MeshosCluster.create(options);
    const cluster = new DaemonsBenchCluster(processes);
    try {
      await processes.start(timeoutMs);
      cluster.admin = await MeshClient.connect({ endpoints: processes.endpoints, discoverLeader: false });
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get endpoints(): readonly string[] {
    return this.processes.endpoints;
  }

  /** Node ids are 1..3; member index `id - 1` of the process cluster. */
  static indexOf(node: number): number {
    return node - 1;
  }

  private client(): MeshClient {
    if (this.admin === undefined) throw new Error('the bench cluster is not started');
    return this.admin;
  }

  /** Deploys the standby group (retried while the nodes are still registering) and waits until synced. */
  async deploy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.client().daemons.deploy(DAEMON_NAME, {
          kind: 'counter',
          group: 'standby',
          members: DAEMON_MEMBERS,
          timeoutMs: ADMIN_CALL_TIMEOUT_MS,
        });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(POLL_INTERVAL_MS);
      }
    }
    await this.waitMembers(Math.max(0, deadline - Date.now()), false);
  }

  async status(): Promise<DaemonStatus | undefined> {
    return this.client()
      .daemons.status(DAEMON_NAME, { timeoutMs: ADMIN_CALL_TIMEOUT_MS })
      .catch(() => undefined);
  }

  /** The node of the active member, once a status names one. */
  async activeNode(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const active = (await this.status())?.members.find((member) => member.role === 'active');
      if (active !== undefined) return active.node;
      if (Date.now() > deadline) throw new Error(`no active member of ${DAEMON_NAME} after ${timeoutMs} ms`);
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /** Waits until every member is healthy and has applied the inbound chain to its end. */
  waitSynced(timeoutMs: number): Promise<void> {
    return this.waitMembers(timeoutMs, true);
  }

  /**
   * Waits until every member is healthy and, with `synced`, has applied the inbound chain to its
   * end (its last record an event: a fresh chain ends with its epoch marker, which no member applies).
   */
  private async waitMembers(timeoutMs: number, synced: boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status();
      if (
        status !== undefined &&
        status.members.length === DAEMON_MEMBERS &&
        status.members.every(
          (member) => member.healthy && (!synced || member.syncedThrough === status.inboundThrough),
        )
      )
        return;
      if (Date.now() > deadline)
        throw new Error(`${DAEMON_NAME} not synced after ${timeoutMs} ms: ${JSON.stringify(status)}`);
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /** `daemon move` of the active to `node`: the pause it reports. */
  async move(node: number, timeoutMs: number): Promise<number> {
    return (await this.client().daemons.move(DAEMON_NAME, node, { timeoutMs })).pauseMs;
  }

  /** The Raft leader's node id (every running member agreeing). */
  async raftLeader(timeoutMs: number): Promise<number> {
    return (await this.processes.leaderIndex(timeoutMs)) + 1;
  }

  /** Hands Raft leadership to `node` (etcd's Maintenance.MoveLeader) and waits until all agree. */
  async moveRaftLeader(node: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.raftLeader(timeoutMs)) !== node) {
      if (Date.now() > deadline) throw new Error(`Raft leadership did not move to node ${node}`);
      await moveLeader(this.endpoints[DaemonsBenchCluster.indexOf(node)]!, node, ADMIN_CALL_TIMEOUT_MS).catch(
        () => sleep(POLL_INTERVAL_MS),
      );
    }
  }

  /**
   * `count` closed-loop senders of the event `1`, spread over the nodes (or over `endpoints`);
   * a sender whose event failed tries the next node.
   */
  openSenders(
    count: number,
    endpoints: readonly string[] = this.endpoints,
  ): { readonly senders: ChainAppender[]; close(): void } {
    const frame = grpcRequestFrame(sendMethod(), {
      name: DAEMON_NAME,
      payload: Buffer.from('1'),
      key: '',
      client_id: '',
      sequence: 0,
    });
    return openRawCallers(endpoints, sendMethod().path, frame, count);
  }

  /** Stops the processes; `keepData` leaves their folders (profiles written on exit, logs). */
  async stop(keepData = false): Promise<void> {
    this.admin?.close();
    this.admin = undefined;
    await this.processes.stop(keepData);
  }
}

/**
 * `count` closed-loop callers of one unary method with one request `frame`, spread over
 * `endpoints` on `SENDER_CONNECTIONS_PER_NODE` HTTP/2 connections each; a caller whose call
 * failed moves to the next connection. Shaped as the chains bench's appenders, so its load
 * runner drives them (the record it hands in is not sent: every call sends `frame`).
 */
export function openRawCallers(
  endpoints: readonly string[],
  grpcPath: string,
  frame: Buffer,
  count: number,
): { readonly senders: ChainAppender[]; close(): void } {
  const channels = new RawKvChannels(endpoints, SENDER_CONNECTIONS_PER_NODE);
  const senders = Array.from({ length: count }, (_, index): ChainAppender => {
    let channel = index % channels.size;
    return {
      async append(_record, timeoutMs) {
        try {
          await channels.callPath(channel, grpcPath, frame, timeoutMs);
        } catch (error) {
          // The load runner pauses before the next call; that one goes to the next connection.
          channel = (channel + 1) % channels.size;
          throw error;
        }
      },
    };
  });
  return { senders, close: () => channels.close() };
}

type MoveLeaderMethod = (
  request: object,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null) => void,
) => void;

function moveLeader(endpoint: string, target: number, timeoutMs: number): Promise<void> {
  const Constructor = grpc.makeGenericClientConstructor(etcdServices().maintenance, 'Maintenance');
  const client = new Constructor(endpoint, grpc.credentials.createInsecure());
  return new Promise<void>((resolve, reject) => {
    const call = (client as unknown as Record<string, MoveLeaderMethod>).MoveLeader!;
    call.call(client, { targetID: target }, { deadline: new Date(Date.now() + timeoutMs) }, (error) => {
      client.close();
      if (error) reject(error);
      else resolve();
    });
  });
}
