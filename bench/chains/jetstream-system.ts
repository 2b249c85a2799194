import { connect, type JetStreamClient, type NatsConnection, StorageType } from 'nats';
import { sleep } from '../cluster/processes.js';
import {
  APPENDER_CONNECTIONS_PER_MEMBER,
  type ChainAppender,
  type ChainReadResult,
  type ChainSyncMode,
  type ChainsSystem,
} from './chains-system.js';
import { JetStreamCluster } from './jetstream-cluster.js';

const REPLICAS = 3;
/** A client whose server is gone tries the next one after this long (its default is 2 s). */
const RECONNECT_WAIT_MS = 50;
/** Messages the ordered consumer asks for at a time. */
const READ_BATCH_MESSAGES = 4_096;
const POLL_INTERVAL_MS = 50;

const subjectOf = (name: string): string => `chains.${name}`;

/**
 * NATS JetStream (`nats-server` with JetStream, the `nats` npm client): a chain is an R3
 * file-storage stream on one subject; an append is a JetStream publish, acknowledged once the
 * stream's Raft group stored it on a quorum.
 */
export class JetStreamSystem implements ChainsSystem {
  readonly label: string;
  readonly syncModes: ReadonlyMap<ChainSyncMode, string> = new Map([
    [
      'interval',
      'acknowledged once a quorum of the R3 stream wrote it, before fsync; stream files are fsynced every 2 minutes (2.9 has no setting for it)',
    ],
  ]);
  private readonly connections: NatsConnection[] = [];
  /** The connection for stream management and reads, opened on first use. */
  private adminConnection: Promise<NatsConnection> | undefined;

  private constructor(
    private readonly cluster: JetStreamCluster,
    version: string,
  ) {
    this.label = `JetStream ${version}`;
  }

  static async create(version: string): Promise<JetStreamSystem> {
    return new JetStreamSystem(await JetStreamCluster.create(), version);
  }

  start(timeoutMs: number): Promise<void> {
    return this.cluster.start(timeoutMs);
  }

  /** A connection that starts at member `first` and fails over to the others in order. */
  private async connection(first: number): Promise<NatsConnection> {
    const endpoints = this.cluster.endpoints;
    const servers = endpoints.map((_, offset) => endpoints[(first + offset) % endpoints.length]!);
    const connection = await connect({
      servers,
      noRandomize: true,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      maxReconnectAttempts: -1,
    });
    this.connections.push(connection);
    return connection;
  }

  private admin(): Promise<NatsConnection> {
    this.adminConnection ??= this.connection(0);
    return this.adminConnection;
  }

  async createChain(name: string, sync: ChainSyncMode, timeoutMs: number): Promise<void> {
    if (!this.syncModes.has(sync)) throw new Error(`${this.label} has no '${sync}' sync mode`);
    const manager = await (await this.admin()).jetstreamManager({ timeout: timeoutMs });
    const deadline = Date.now() + timeoutMs;
    // Right after the meta leader is chosen it may not know every peer yet ("no suitable peers
    // for placement" on a loaded machine): try again until the deadline.
    for (;;) {
      try {
        await manager.streams.add({
          name,
          subjects: [subjectOf(name)],
          num_replicas: REPLICAS,
          storage: StorageType.File,
          allow_direct: true,
        });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(POLL_INTERVAL_MS);
      }
    }
    await this.waitReplicated(name, Math.max(0, deadline - Date.now()));
  }

  async openAppenders(name: string, count: number): Promise<ChainAppender[]> {
    const members = this.cluster.endpoints.length;
    const clients: JetStreamClient[] = [];
    for (let index = 0; index < Math.min(count, members * APPENDER_CONNECTIONS_PER_MEMBER); index++) {
      clients.push((await this.connection(index % members)).jetstream());
    }
    const subject = subjectOf(name);
    return Array.from({ length: count }, (_, index) => {
      const client = clients[index % clients.length]!;
      return {
        async append(payload: Uint8Array, timeoutMs: number): Promise<void> {
          await client.publish(subject, payload, { timeout: timeoutMs });
        },
      };
    });
  }

  /** An ordered consumer (ephemeral, flow-controlled, no acks) from the first message to the last. */
  async read(name: string, maxRecords: number, maxDurationMs: number): Promise<ChainReadResult> {
    const startedAt = performance.now();
    const lastSequence = (await this.streamInfo(name)).state.last_seq;
    const wanted = Math.min(maxRecords, lastSequence);
    let records = 0;
    if (wanted > 0) {
      const consumer = await (await this.admin()).jetstream().consumers.get(name);
      const messages = await consumer.consume({ max_messages: READ_BATCH_MESSAGES });
      const timer = setTimeout(() => messages.stop(), maxDurationMs);
      try {
        for await (const _message of messages) {
          records++;
          if (records >= wanted) break;
        }
      } finally {
        clearTimeout(timer);
      }
    }
    return { records, durationMs: performance.now() - startedAt };
  }

  private async streamInfo(name: string) {
    const manager = await (await this.admin()).jetstreamManager();
    return manager.streams.info(name);
  }

  async leaderIndex(name: string, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = await this.streamInfo(name).then(
        (info) => info.cluster?.leader,
        () => undefined,
      );
      const index = leader === undefined ? undefined : this.cluster.indexOf(leader);
      if (index !== undefined) return index;
      if (Date.now() > deadline) throw new Error(`stream ${name} has no leader after ${timeoutMs} ms`);
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /** Waits until the stream has a leader and every other replica is current. */
  private async waitReplicated(name: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const cluster = await this.streamInfo(name).then(
        (info) => info.cluster,
        () => undefined,
      );
      const followers = cluster?.replicas ?? [];
      const current = followers.filter((replica) => replica.current && !replica.offline).length;
      if (cluster?.leader !== undefined && current === REPLICAS - 1) return;
      if (Date.now() > deadline) {
        throw new Error(
          `stream ${name} not fully replicated after ${timeoutMs} ms: ${JSON.stringify(cluster)}`,
        );
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  kill(index: number): Promise<void> {
    return this.cluster.kill(index);
  }

  async restart(index: number, name: string, timeoutMs: number): Promise<void> {
    await this.cluster.restart(index, timeoutMs);
    await this.waitReplicated(name, timeoutMs);
  }

  async stop(): Promise<void> {
    this.adminConnection = undefined;
    const connections = this.connections.splice(0);
    await Promise.all(connections.map((connection) => connection.close().catch(() => undefined)));
    await this.cluster.stop();
  }

  describeOutput(): string {
    return this.cluster.describeOutput();
  }
}
