import { type ChainLog, openChainLog } from '../../../src/chains/index.js';
import { ManualClock, MemoryDisk, type NodeId } from '../../../src/lib/index.js';
import { ChainCluster, type ChainClusterOptions } from './chain-cluster.js';

/**
 * A `ChainCluster` whose nodes run the disk `ChainLog` (segments on a `MemoryDisk` per node,
 * `batch` sync) instead of the test bed's logs; the disks stay reachable for their sync counts.
 */
export class DiskChainCluster {
  readonly disks = new Map<NodeId, MemoryDisk>();
  readonly logs = new Map<NodeId, ChainLog>();
  private cluster: ChainCluster | undefined;

  /** The cluster of `options`, every replica and learner on its own disk log. */
  async start(options: Omit<ChainClusterOptions, 'clock' | 'logs'>): Promise<ChainCluster> {
    const clock = new ManualClock(0);
    for (const id of [...options.replicas, ...(options.learners ?? [])]) {
      const disk = new MemoryDisk();
      const log = await openChainLog(disk, `/node-${id}/chain-a`, {
        sync: { mode: 'batch' },
        retention: {},
        clock,
        name: 'chain-a',
      });
      this.disks.set(id, disk);
      this.logs.set(id, log);
    }
    this.cluster = new ChainCluster({ ...options, clock, logs: this.logs });
    return this.cluster;
  }

  /** Stops the cluster and closes its logs. */
  async close(): Promise<void> {
    this.cluster?.close();
    this.cluster = undefined;
    for (const log of this.logs.values()) await log.close();
    this.logs.clear();
    this.disks.clear();
  }
}
