/**
 * `--snapshot-count` on a real three-node cluster (in one process, on loopback): every member
 * snapshots after that many applied entries and says so in `meshos_store_snapshots_saved`.
 */
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/lib/index.js';
import { type ConformanceCluster, startConformanceCluster, until } from './cluster.js';

const SNAPSHOT_COUNT = 40;
const PUTS = 3 * SNAPSHOT_COUNT;

describe('--snapshot-count', () => {
  let cluster: ConformanceCluster;
  let client: Etcd3;

  beforeAll(async () => {
    cluster = await startConformanceCluster('snapshot-count', { snapshotCount: SNAPSHOT_COUNT });
    client = new Etcd3({ hosts: [...cluster.addresses] });
  }, 30_000);

  afterAll(async () => {
    client?.close();
    await cluster?.close();
  });

  it('snapshots every member after that many applied entries', async () => {
    for (let put = 0; put < PUTS; put++) await client.put(`snapshot-count/${put % 7}`).value(`value ${put}`);
    const snapshotsSaved = async (): Promise<number[]> =>
      Promise.all(
        cluster.nodes.map(async (node) => {
          const metrics = await (await fetch(`http://${formatAddress(node.endpoints.admin)}/metrics`)).text();
          return Number(/^meshos_store_snapshots_saved (\d+)$/m.exec(metrics)?.[1] ?? Number.NaN);
        }),
      );
    // Each member applied at least PUTS entries: at least two snapshots each, in the background.
    await until(
      async () => (await snapshotsSaved()).every((saved) => saved >= 2),
      'two snapshots on every member',
    );
    // The last put to key 0, read back across the snapshots.
    expect(await client.get('snapshot-count/0').string()).toBe(`value ${Math.floor((PUTS - 1) / 7) * 7}`);
  }, 30_000);
});
