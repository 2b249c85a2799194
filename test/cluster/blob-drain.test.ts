/**
 * A drain waits for blob copies, on three voters started with the built `meshos start`: a node
 * holding one of a blob's two copies (`--replicas 2`) is drained with `meshos node drain`; it
 * reaches Maintenance only once the blob has its two copies on the other nodes (the reconciler
 * copies it there: the draining node's copy stops counting), then leaves the blob's record, and
 * `meshos blob get` reads the blob whole through every node. A drain of a node whose blob the
 * other nodes cannot keep at its count (`--replicas 3` on three nodes) ends in DrainFailed naming
 * the blob, and the node keeps its copy.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobClusterPerTest, holdersOf } from './blob-cluster.js';
import { eventually } from './chain-cluster.js';
import { runMeshos } from './meshos-process.js';

const CLUSTER_TIMEOUT_MS = 60_000;
const DRAIN_DEADLINE = '120s';
const FAILING_DEADLINE = '8s';
const CLI_TIMEOUT_MS = 180_000;
const BLOB_BYTES = 2 * 1024 * 1024 + 5;

describe('a drain of a node holding a blob copy', () => {
  const blobs = blobClusterPerTest();

  const run = (args: readonly string[], via: number) =>
    runMeshos(args, blobs.cluster.plan(via).client, CLI_TIMEOUT_MS);

  it(
    'reaches Maintenance only once the blob has its two copies on the other nodes; blob get works',
    async () => {
      const cluster = await blobs.start();
      const client = await blobs.clientOf(1);
      const bytes = randomBytes(BLOB_BYTES);
      const put = await eventually(
        'a put with two copies',
        () => client.blobs.put(bytes, { replicas: 2 }),
        CLUSTER_TIMEOUT_MS,
      );
      expect(put.holders).toHaveLength(2);
      const drained = put.holders.find((id) => id !== 1)!;
      const other = [2, 3].find((id) => id !== drained)!;

      const drain = await run(['node', 'drain', String(drained), '--deadline', DRAIN_DEADLINE, '--json'], 1);
      expect(drain.code, drain.output).toBe(0);
      const status = JSON.parse(drain.output.trim().split('\n').at(-1)!) as {
        state: { phase: string };
        holdings: { blobs: unknown[] };
      };
      expect(status.state.phase).toBe('Maintenance');
      expect(status.holdings.blobs).toEqual([]);
      // When Maintenance was committed, the other two nodes already held recorded copies.
      const atMaintenance = await holdersOf(client, put.id);
      expect(atMaintenance.filter((id) => id !== drained)).toEqual([1, other]);
      await eventually(
        'the drained node off the record',
        async () => {
          const holders = await holdersOf(client, put.id);
          if (holders.join() === [1, other].join()) return true;
          throw new Error(`holders ${holders}`);
        },
        CLUSTER_TIMEOUT_MS,
      );
      expect(await blobs.onDisk(1, put.id)).toBe(true);
      expect(await blobs.onDisk(other, put.id)).toBe(true);
      for (const via of [1, other, drained]) {
        const target = path.join(cluster.root, `through-${via}.bin`);
        const get = await run(['blob', 'get', put.id, '-o', target], via);
        expect(get.code, get.output).toBe(0);
        expect((await readFile(target)).equals(bytes)).toBe(true);
      }
    },
    6 * CLUSTER_TIMEOUT_MS,
  );

  it(
    'ends in DrainFailed naming the blob when the other nodes cannot keep its count',
    async () => {
      await blobs.start();
      const client = await blobs.clientOf(1);
      // The same bytes on every try: a try that made fewer copies (BLOB_REPLICAS_UNAVAILABLE while
      // membership lacks a node) recorded its blob, and the next try must complete that blob, not
      // leave it beside a second one.
      const bytes = randomBytes(64 * 1024);
      const put = await eventually(
        'a put with three copies',
        () => client.blobs.put(bytes, { replicas: 3 }),
        CLUSTER_TIMEOUT_MS,
      );
      expect(put.holders).toEqual([1, 2, 3]);
      const drain = await run(['node', 'drain', '2', '--deadline', FAILING_DEADLINE, '--json'], 1);
      expect(drain.code).not.toBe(0);
      const status = JSON.parse(drain.output.trim().split('\n').at(-1)!) as {
        state: { phase: string; reason?: string };
        holdings: { blobs: unknown[] };
      };
      expect(status.state.phase).toBe('DrainFailed');
      expect(status.state.reason).toContain(`blob ${put.id} (2 of 3 copies on other nodes)`);
      expect(status.holdings.blobs).toEqual([{ blob: put.id, replicas: 3, kept: 2 }]);
      expect(await holdersOf(client, put.id)).toEqual([1, 2, 3]);
      expect(await blobs.onDisk(2, put.id)).toBe(true);
    },
    4 * CLUSTER_TIMEOUT_MS,
  );
});
