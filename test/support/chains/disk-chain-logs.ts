import { type ChainLog, openChainLog } from '../../../src/chains/index.js';
import { type ManualClock, MemoryDisk, type NodeId } from '../../../src/lib/index.js';

/**
 * The disk `ChainLog` (segments on a `MemoryDisk` per node, `batch` sync) for a `ChainCluster`'s
 * nodes instead of the test bed's logs; the disks stay reachable for their sync counts.
 */
export class DiskChainLogs {
  readonly disks = new Map<NodeId, MemoryDisk>();
  readonly logs = new Map<NodeId, ChainLog>();

  async open(ids: readonly NodeId[], clock: ManualClock): Promise<ReadonlyMap<NodeId, ChainLog>> {
    for (const id of ids) {
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
    return this.logs;
  }

  async closeAll(): Promise<void> {
    for (const log of this.logs.values()) await log.close();
    this.logs.clear();
    this.disks.clear();
  }
}
