/**
 * The setup the multi-process blob tests share: three voters started with the built
 * `meshos start` for one test and stopped after it (with every client opened on them), clients of
 * one node's client port, a blob's holders as its record names them, and the nodes whose disks
 * hold its file.
 */
import { access } from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach } from 'vitest';
import { MeshClient } from '../../src/client/index.js';
import { ProcessCluster } from './process-cluster.js';

/** Starting node processes on a loaded 2-core machine took 20 s for 3 nodes. */
const STARTUP_TIMEOUT_MS = 90_000;

export class BlobTestCluster {
  private running: ProcessCluster | undefined;
  private clients: MeshClient[] = [];

  /** Three voters with `nodeArguments` added to each one's start, started, a leader elected. */
  async start(nodeArguments: readonly string[] = []): Promise<ProcessCluster> {
    this.running = await ProcessCluster.create(3, { nodeArguments });
    this.running.startAll();
    await this.running.waitForLeader(STARTUP_TIMEOUT_MS);
    return this.running;
  }

  get cluster(): ProcessCluster {
    if (this.running === undefined) throw new Error('no blob test cluster runs: start() it first');
    return this.running;
  }

  /** A client of node `id`'s client port only (no leader discovery): its gets are that node's reads. */
  async clientOf(id: number): Promise<MeshClient> {
    const client = await MeshClient.connect({
      endpoints: [this.cluster.plan(id).client],
      discoverLeader: false,
    });
    this.clients.push(client);
    return client;
  }

  /** Whether node `node`'s disk holds a file of the blob. */
  onDisk(node: number, blobId: string): Promise<boolean> {
    return access(path.join(this.cluster.plan(node).data, 'blobs', blobId)).then(
      () => true,
      () => false,
    );
  }

  /** The nodes whose disks hold a file of the blob, in order. */
  async disksHolding(blobId: string): Promise<number[]> {
    const found: number[] = [];
    for (const plan of this.cluster.plans) if (await this.onDisk(plan.id, blobId)) found.push(plan.id);
    return found;
  }

  /** Closes the clients and stops the nodes. */
  async stop(): Promise<void> {
    for (const client of this.clients) client.close();
    this.clients = [];
    await this.running?.stopAll();
    this.running = undefined;
  }
}

/** The nodes the blob's record names as holders, as the node behind `client` answers, in order. */
export async function holdersOf(client: MeshClient, blobId: string): Promise<number[]> {
  return (await client.blobs.status(blobId)).holders.map((holder) => holder.node).sort((a, b) => a - b);
}

/** A `BlobTestCluster` for each test of the enclosing `describe`, stopped after it. */
export function blobClusterPerTest(): BlobTestCluster {
  const blobs = new BlobTestCluster();
  afterEach(() => blobs.stop());
  return blobs;
}
