import { afterEach, describe, expect, it } from 'vitest';
import type { ChainLog } from '../../../src/chains/index.js';
import type { NodeId } from '../../../src/lib/index.js';
import { acknowledged, settle } from '../../support/chains/append-outcomes.js';
import { type ChainCluster, describeEntry } from '../../support/chains/chain-cluster.js';
import { DiskChainCluster } from '../../support/chains/disk-chain-cluster.js';

/** The replicas over the disk `ChainLog` (segments on a `MemoryDisk`) instead of the test bed's. */
const disk = new DiskChainCluster();

afterEach(() => disk.close());

async function startOnDisk(
  replicas: readonly NodeId[],
  learners: readonly NodeId[] = [],
): Promise<ChainCluster> {
  return disk.start({ replicas, learners, acks: 'quorum', seed: 7 });
}

describe('ChainReplica over the disk ChainLog', () => {
  it('replicates, fails over to a new epoch that cuts off a divergent suffix, and catches a learner up', async () => {
    const chain = await startOnDisk([1, 2, 3], [4]);
    await chain.runUntil(() => chain.leaderId() === 1, 3000, 'node 1 leads');
    for (let index = 0; index < 10; index++)
      acknowledged(await settle(chain, chain.append(1, [`r${index}`])));
    chain.partition([1]);
    const lost = chain.append(1, ['only-on-1']);
    await chain.runUntil(
      () => chain.leaderId() !== undefined && chain.leaderId() !== 1,
      3000,
      'a new leader',
    );
    const leader = chain.leaderId() as NodeId;
    acknowledged(await settle(chain, chain.append(leader, ['after'])));
    chain.heal();
    expect(await settle(chain, lost)).toBeInstanceOf(Error);
    const end = chain.logOf(leader).length;
    await chain.runUntil(
      () => [1, 2, 3, 4].every((id) => chain.replica(id).commitOffset === end),
      3000,
      'every member reaches the commit offset',
    );
    for (const id of [1, 2, 3, 4]) {
      expect(chain.logOf(id)).toEqual(chain.logOf(leader));
      // What the disk log itself returns, not the test bed's mirror of it.
      const stored = await (disk.logs.get(id) as ChainLog).read(0, 1000, 1 << 20);
      expect(stored.map(describeEntry)).toEqual(chain.logOf(leader));
    }
    expect(chain.logOf(1)).not.toContain('1/data/only-on-1');
    const read = await chain.replica(4).read(0, 100, 1 << 20);
    expect(read.map((entry) => new TextDecoder().decode(entry.payload))).toEqual([
      ...Array.from({ length: 10 }, (_, index) => `r${index}`),
      'after',
    ]);
    expect(chain.violations).toEqual([]);
  });
});
