import { afterEach, describe, expect, it } from 'vitest';
import type { AppendResult, ChainReplicaMessage } from '../../../src/chains/index.js';
import type { MemoryDisk, NodeId } from '../../../src/lib/index.js';
import { acknowledged, settle } from '../../support/chains/append-outcomes.js';
import type { ChainCluster } from '../../support/chains/chain-cluster.js';
import { DiskChainCluster } from '../../support/chains/disk-chain-cluster.js';

/** Group commit on the disk `ChainLog` (segments on a `MemoryDisk`, whose syncs are counted). */
const REPLICAS: readonly NodeId[] = [1, 2, 3];
const CONCURRENT_APPENDS = 20;
const disk = new DiskChainCluster();

afterEach(() => disk.close());

async function startOnDisks(): Promise<{ chain: ChainCluster; disks: ReadonlyMap<NodeId, MemoryDisk> }> {
  const chain = await disk.start({ replicas: REPLICAS, acks: 'quorum', seed: 11 });
  await chain.runUntil(() => chain.leaderId() === 1, 3000, 'node 1 leads');
  acknowledged(await settle(chain, chain.append(1, ['warm-up'])));
  // Every follower acknowledged it too: nothing of the warm-up is left to sync.
  await chain.runUntil(
    () => REPLICAS.every((id) => chain.replica(id).commitOffset === chain.replica(1).status().endOffset),
    3000,
    'every replica holds the warm-up',
  );
  return { chain, disks: disk.disks };
}

function syncCounts(disks: ReadonlyMap<NodeId, MemoryDisk>): number[] {
  return REPLICAS.map((id) => (disks.get(id) as MemoryDisk).syncCount);
}

/** Counts the messages of `type` each node receives (records-carrying appends only for `append`). */
function countMessages(chain: ChainCluster, type: ChainReplicaMessage['type']): Map<NodeId, number> {
  const received = new Map<NodeId, number>();
  chain.dropMessage = (_from, to, message) => {
    if (message.type === type && (message.type !== 'append' || message.entries.length > 0)) {
      received.set(to, (received.get(to) ?? 0) + 1);
    }
    return false;
  };
  return received;
}

describe('ChainReplica group commit', () => {
  it('appends made in one turn share one fdatasync per replica, one append message per follower', async () => {
    const { chain, disks } = await startOnDisks();
    const syncsBefore = syncCounts(disks);
    const appendMessages = countMessages(chain, 'append');
    const outcomes: (AppendResult | Error)[] = [];
    for (let index = 0; index < CONCURRENT_APPENDS; index++) {
      void chain.append(1, [`concurrent-${index}`]).then((outcome) => outcomes.push(outcome));
    }
    await chain.runUntil(() => outcomes.length === CONCURRENT_APPENDS, 3000, 'every append settles');
    const results = outcomes.map(acknowledged);
    // Each append has its own offset, consecutive across the batch.
    const offsets = results.map((result) => result.firstOffset).sort((a, b) => a - b);
    expect(offsets).toEqual(Array.from({ length: CONCURRENT_APPENDS }, (_, index) => offsets[0]! + index));
    expect(results.every((result) => result.lastOffset === result.firstOffset)).toBe(true);
    const syncsAfter = syncCounts(disks);
    expect(syncsAfter.map((count, index) => count - syncsBefore[index]!)).toEqual([1, 1, 1]);
    expect(Object.fromEntries(appendMessages)).toEqual({ 2: 1, 3: 1 });
    expect(chain.violations).toEqual([]);
  });

  it('answers appends only after a quorum synced their batch', async () => {
    const { chain, disks } = await startOnDisks();
    const syncsBefore = syncCounts(disks);
    // The followers get nothing: the leader's own sync is not a quorum of 3.
    chain.cutLink(1, 2);
    chain.cutLink(1, 3);
    const outcomes: (AppendResult | Error)[] = [];
    for (let index = 0; index < CONCURRENT_APPENDS; index++) {
      void chain.append(1, [`held-${index}`]).then((outcome) => outcomes.push(outcome));
    }
    await chain.runUntil(
      () => (disks.get(1) as MemoryDisk).syncCount > syncsBefore[0]!,
      100,
      'the leader syncs the batch',
    );
    await chain.run(100);
    expect(outcomes).toEqual([]);
    expect(syncCounts(disks).map((count, index) => count - syncsBefore[index]!)).toEqual([1, 0, 0]);
    // One follower is enough for a quorum; it acknowledges the whole batch with one sync.
    chain.restoreLink(1, 2);
    await chain.runUntil(() => outcomes.length === CONCURRENT_APPENDS, 3000, 'every append settles');
    expect(outcomes.every((outcome) => !(outcome instanceof Error))).toBe(true);
    expect(syncCounts(disks).map((count, index) => count - syncsBefore[index]!)).toEqual([1, 1, 0]);
    expect(chain.violations).toEqual([]);
  });
});
