/**
 * Blob copies beyond what is asked for, on three voters started with the built `meshos start`
 * (the reconciler running, short grace periods): a blob put again through a node without a copy
 * has one holder more than its count, and reconcile drops one (DropBlobCopy) until the count is
 * what was asked for; a holder killed with kill -9 is replaced, leaves the record, and when it
 * comes back its copies no record names (that blob re-homed, another deleted while it was away)
 * are deleted from its disk by its orphan check, while every blob still asked for is read whole.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobClusterPerTest, holdersOf } from './blob-cluster.js';
import { eventually } from './chain-cluster.js';

const CLUSTER_TIMEOUT_MS = 60_000;
/** How long a lost node's copies still count before reconcile replaces them. */
const COPY_GRACE_MS = 2_000;
/** How long a copy no record names stays on a node's disk. */
const ORPHAN_GRACE_MS = 2_000;

describe('blob copies beyond what is asked for on three nodes', () => {
  const blobs = blobClusterPerTest();

  it(
    'drops an extra copy, and a returning holder deletes the copies no record names',
    async () => {
      const cluster = await blobs.start([
        '--chain-repair-grace-ms',
        String(COPY_GRACE_MS),
        '--blob-orphan-grace-ms',
        String(ORPHAN_GRACE_MS),
      ]);
      const first = await blobs.clientOf(1);
      const second = await blobs.clientOf(2);

      // One copy asked for; put again through node 2, which stores its own: two holders.
      const single = randomBytes(64 * 1024);
      const singlePut = await eventually(
        'a put through node 1',
        () => first.blobs.put(single),
        CLUSTER_TIMEOUT_MS,
      );
      expect(singlePut.holders).toEqual([1]);
      const again = await second.blobs.put(single);
      expect(again.holders).toEqual([1, 2]);
      await eventually(
        'the extra copy dropped',
        async () => {
          const holders = await holdersOf(first, singlePut.id);
          const disks = await blobs.disksHolding(singlePut.id);
          if (holders.length === 1 && disks.join() === holders.join()) return true;
          throw new Error(`holders ${holders}, on the disks of ${disks}`);
        },
        CLUSTER_TIMEOUT_MS,
      );
      expect(Buffer.from(await second.blobs.getBytes(singlePut.id)).equals(single)).toBe(true);

      // Copies on every node, and one on two nodes; then one of its holders is lost.
      const everywhere = randomBytes(32 * 1024);
      const everywherePut = await first.blobs.put(everywhere, { replicas: 3 });
      expect(everywherePut.holders).toEqual([1, 2, 3]);
      const kept = randomBytes(256 * 1024);
      const keptPut = await first.blobs.put(kept, { replicas: 2 });
      const lost = keptPut.holders.find((id) => id !== 1)!;
      const remaining = [2, 3].find((id) => id !== lost)!;
      await cluster.kill(lost);
      // Deleted while the lost node is away: its copy is not deleted with the others.
      await first.blobs.delete(everywherePut.id);
      expect(await blobs.onDisk(lost, everywherePut.id)).toBe(true);
      await eventually(
        'the lost holder replaced and left off the record',
        async () => {
          const holders = await holdersOf(first, keptPut.id);
          if (holders.join() === [1, remaining].join()) return true;
          throw new Error(`holders ${holders}`);
        },
        3 * CLUSTER_TIMEOUT_MS,
      );

      cluster.start(lost);
      await eventually(
        'the returned node deleted the copies no record names',
        async () => {
          const left = [
            ...((await blobs.onDisk(lost, everywherePut.id)) ? ['the deleted blob'] : []),
            ...((await blobs.onDisk(lost, keptPut.id)) ? ['the re-homed blob'] : []),
          ];
          if (left.length === 0) return true;
          throw new Error(`node ${lost} still holds ${left.join(' and ')}`);
        },
        3 * CLUSTER_TIMEOUT_MS,
      );
      expect(await holdersOf(first, keptPut.id)).toEqual([1, remaining]);
      expect(await blobs.disksHolding(keptPut.id)).toEqual([1, remaining]);
      const returned = await blobs.clientOf(lost);
      expect(Buffer.from(await returned.blobs.getBytes(keptPut.id)).equals(kept)).toBe(true);
      expect(await blobs.disksHolding(everywherePut.id)).toEqual([]);
    },
    8 * CLUSTER_TIMEOUT_MS,
  );
});
