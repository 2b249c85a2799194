import { MeshClient, MeshClientError } from '../../src/client/index.js';
import { clusterOptionsFromEnvironment, MeshosCluster } from '../cluster/meshos-cluster.js';
import { sleep } from '../cluster/processes.js';
import {
  APPENDER_CONNECTIONS_PER_MEMBER,
  type ChainAppender,
  type ChainReadResult,
  type ChainSyncMode,
  type ChainsSystem,
  SystemUnavailableError,
} from './chains-system.js';

const REPLICAS = 3;
/**
 * The `interval` chain's fsync period. JetStream 2.9 syncs every 2 minutes; 1 s keeps chains'
 * interval mode the stricter of the two (both acknowledge before fsync).
 */
export const INTERVAL_SYNC_MS = 1_000;
/** Records (and payload bytes) one read call asks for. */
const READ_LIMIT_RECORDS = 4_096;
const READ_MAX_BYTES = 1_048_576;
const POLL_INTERVAL_MS = 50;
const ADMIN_CALL_TIMEOUT_MS = 2_000;
/** gRPC's UNIMPLEMENTED: the node's client port does not serve `meshos.v1.Chains`. */
const GRPC_UNIMPLEMENTED = 12;

/**
 * MeshOS chains: `meshos start` ×3 as in production (TLS peers, fsync on), the chains service
 * of every node, `client.chains` over plaintext gRPC; a chain with 3 replicas, `acks=quorum`.
 */
export class MeshosChainsSystem implements ChainsSystem {
  readonly label: string;
  readonly syncModes: ReadonlyMap<ChainSyncMode, string> = new Map<ChainSyncMode, string>([
    [
      'batch',
      'acknowledged once a quorum of the 3 replicas fsynced it (one fdatasync per batch of appends: group commit)',
    ],
    [
      'interval',
      `acknowledged once a quorum of the 3 replicas wrote it to the OS; fdatasync every ${INTERVAL_SYNC_MS} ms`,
    ],
  ]);
  private readonly clients: MeshClient[] = [];
  private adminClient: Promise<MeshClient> | undefined;

  private constructor(private readonly cluster: MeshosCluster) {
    this.label = `MeshOS ${process.env.npm_package_version ?? ''}`.trim();
  }

  static async create(): Promise<MeshosChainsSystem> {
    return new MeshosChainsSystem(await MeshosCluster.create(clusterOptionsFromEnvironment()));
  }

  start(timeoutMs: number): Promise<void> {
    return this.cluster.start(timeoutMs);
  }

  /** A client that talks to member `first` and fails over to the others in order. */
  private async client(first: number): Promise<MeshClient> {
    const endpoints = this.cluster.endpoints;
    const client = await MeshClient.connect({
      endpoints: endpoints.map((_, offset) => endpoints[(first + offset) % endpoints.length]!),
      discoverLeader: false,
    });
    this.clients.push(client);
    return client;
  }

  private admin(): Promise<MeshClient> {
    this.adminClient ??= this.client(0);
    return this.adminClient;
  }

  async createChain(name: string, sync: ChainSyncMode, timeoutMs: number): Promise<void> {
    const admin = await this.admin();
    const deadline = Date.now() + timeoutMs;
    // The chains service places replicas on healthy nodes: right after start, it may not know them yet.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.chains.create(name, {
          replicas: REPLICAS,
          acks: 'quorum',
          sync: sync === 'batch' ? { mode: 'batch' } : { mode: 'interval', intervalMs: INTERVAL_SYNC_MS },
          timeoutMs: ADMIN_CALL_TIMEOUT_MS,
        });
        break;
      } catch (error) {
        if (error instanceof MeshClientError && error.grpcCode === GRPC_UNIMPLEMENTED) {
          throw new SystemUnavailableError(`the nodes do not serve meshos.v1.Chains: ${error.message}`);
        }
        // A starved earlier attempt may have been applied though its answer was lost: the name
        // is then taken by this very chain (each round starts a fresh cluster).
        if (attempt > 0 && error instanceof MeshClientError && error.code === 'CHAIN_EXISTS') break;
        if (Date.now() > deadline) throw error;
        await sleep(POLL_INTERVAL_MS);
      }
    }
    await this.waitReplicated(name, Math.max(0, deadline - Date.now()));
  }

  async openAppenders(name: string, count: number): Promise<ChainAppender[]> {
    const members = this.cluster.endpoints.length;
    const clients: MeshClient[] = [];
    for (let index = 0; index < Math.min(count, members * APPENDER_CONNECTIONS_PER_MEMBER); index++) {
      clients.push(await this.client(index % members));
    }
    return Array.from({ length: count }, (_, index) => {
      const client = clients[index % clients.length]!;
      return {
        async append(payload: Uint8Array, timeoutMs: number): Promise<void> {
          await client.chains.append(name, payload, { timeoutMs });
        },
      };
    });
  }

  /** Read calls from offset 0 up to the commit offset as of the first answer. */
  async read(name: string, maxRecords: number, maxDurationMs: number): Promise<ChainReadResult> {
    const admin = await this.admin();
    const startedAt = performance.now();
    const deadline = startedAt + maxDurationMs;
    let records = 0;
    let fromOffset = 0;
    let endOffset: number | undefined;
    while (records < maxRecords && performance.now() < deadline) {
      const answer = await admin.chains.read(name, {
        fromOffset,
        limit: Math.min(READ_LIMIT_RECORDS, maxRecords - records),
        maxBytes: READ_MAX_BYTES,
      });
      const end = endOffset ?? answer.commitOffset;
      endOffset = end;
      records += answer.records.length;
      fromOffset = answer.nextOffset;
      if (answer.records.length === 0 || fromOffset >= end) break;
    }
    return { records, durationMs: performance.now() - startedAt };
  }

  private indexOfNode(node: number): number | undefined {
    const index = node - 1;
    return index >= 0 && index < this.cluster.endpoints.length ? index : undefined;
  }

  async leaderIndex(name: string, timeoutMs: number): Promise<number> {
    const admin = await this.admin();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = await admin.chains.status(name, { timeoutMs: ADMIN_CALL_TIMEOUT_MS }).then(
        (status) => status.leader,
        () => 0,
      );
      const index = leader === 0 ? undefined : this.indexOfNode(leader);
      if (index !== undefined) return index;
      if (Date.now() > deadline) throw new Error(`chain ${name} has no leader after ${timeoutMs} ms`);
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /** Waits until the chain has a leader and every replica is healthy and caught up. */
  private async waitReplicated(name: string, timeoutMs: number): Promise<void> {
    const admin = await this.admin();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await admin.chains
        .status(name, { timeoutMs: ADMIN_CALL_TIMEOUT_MS })
        .catch(() => undefined);
      const caughtUp = status?.replicas.filter((replica) => replica.healthy && replica.lag === 0).length ?? 0;
      if (status !== undefined && status.leader !== 0 && caughtUp === REPLICAS) return;
      if (Date.now() > deadline) {
        throw new Error(
          `chain ${name} not fully replicated after ${timeoutMs} ms: ${JSON.stringify(status)}`,
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
    this.adminClient = undefined;
    for (const client of this.clients.splice(0)) client.close();
    await this.cluster.stop();
  }

  describeOutput(): string {
    return this.cluster.describeOutput();
  }
}
