/**
 * `meshos blob ...` end to end on three voters started with the built `meshos start`: a 3 MiB file
 * put with --replicas 2 prints its SHA-256 and is held (checked) by two nodes; the node without a
 * copy serves a get (fetched from a holder) byte for byte; status --json has its documented
 * shape and counts the reads on the reading node; after kill -9 of a holder the blob is still
 * read, through the node without a copy and through the surviving holder. With the reconciler
 * running: a blob read hot through a node without a copy moves there (and is cooled), and a blob
 * whose holder is killed gets its copy count back on the remaining node.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BLOB_HOT_HEAT } from '../../src/reconcile/index.js';
import { blobClusterPerTest, holdersOf } from './blob-cluster.js';
import { eventually } from './chain-cluster.js';
import { runMeshos } from './meshos-process.js';

const CLI_TIMEOUT_MS = 60_000;
const CLUSTER_TIMEOUT_MS = 60_000;
const FILE_BYTES = 3 * 1024 * 1024 + 17;
/** How long a lost node's copies still count before reconcile replaces them (`--chain-repair-grace-ms`). */
const COPY_GRACE_MS = 2_000;
/** Gets in flight at once while a blob is read hot (below the node's transfer slots and queue). */
const HOT_READ_ROUND = 50;
/** Reads at most before the test gives up heating a blob. */
const MAX_HOT_READS = 5 * BLOB_HOT_HEAT;

describe('meshos blob on three nodes', () => {
  const blobs = blobClusterPerTest();

  const blob = (id: number, args: string[]) =>
    runMeshos(['blob', ...args], blobs.cluster.plan(id).client, CLI_TIMEOUT_MS);

  async function blobJson(id: number, args: string[]): Promise<Record<string, unknown>> {
    const result = await blob(id, [...args, '--json']);
    if (result.code !== 0)
      throw new Error(`meshos blob ${args.join(' ')} exited ${result.code}: ${result.output}`);
    return JSON.parse(result.output) as Record<string, unknown>;
  }

  /** `blob get` through node `via` into a file; its bytes. */
  async function getThrough(via: number, blobId: string, name: string): Promise<Buffer> {
    const target = path.join(blobs.cluster.root, name);
    const result = await blob(via, ['get', blobId, '-o', target]);
    if (result.code !== 0)
      throw new Error(`blob get through node ${via} exited ${result.code}: ${result.output}`);
    return readFile(target);
  }

  it(
    'puts with --replicas 2, gets through a node without a copy, and still gets after kill -9 of a holder',
    async () => {
      const cluster = await blobs.start();
      const file = path.join(cluster.root, 'payload.bin');
      const bytes = randomBytes(FILE_BYTES);
      await writeFile(file, bytes);
      const expectedId = createHash('sha256').update(bytes).digest('hex');

      // Two copies need a second registered node: retried until membership has one.
      const put = await eventually(
        'a put with two copies',
        () => blobJson(1, ['put', file, '--replicas', '2']),
        CLUSTER_TIMEOUT_MS,
      );
      expect(put).toMatchObject({ id: expectedId, size: FILE_BYTES, replicas: 2 });
      const holders = put.holders as number[];
      expect(holders).toHaveLength(2);
      expect(holders).toContain(1);
      // Again through a holder, without --json: only the id is printed (and nothing changes).
      const plain = await blob(1, ['put', file, '--replicas', '2']);
      expect(plain).toMatchObject({ code: 0 });
      expect(plain.output.trim()).toBe(expectedId);

      const [reader] = cluster.plans.map((plan) => plan.id).filter((id) => !holders.includes(id));
      expect(reader).toBeDefined();
      expect((await getThrough(reader!, expectedId, 'through-reader.bin')).equals(bytes)).toBe(true);

      const status = await blobJson(reader!, ['status', expectedId]);
      expect(Object.keys(status).slice(0, 4)).toEqual(['id', 'size', 'replicas', 'holders']);
      expect(status).toMatchObject({ id: expectedId, size: FILE_BYTES, replicas: 2 });
      expect(
        (status.holders as { node: number; heat: number }[]).map((holder) => holder.node).sort(),
      ).toEqual([...holders].sort());
      expect((status.readers as { node: number; heat: number }[])[0]).toMatchObject({ node: reader });

      const lost = holders.find((id) => id !== 1)!;
      const kept = 1;
      await cluster.kill(lost);
      expect((await getThrough(reader!, expectedId, 'after-kill-reader.bin')).equals(bytes)).toBe(true);
      expect((await getThrough(kept, expectedId, 'after-kill-holder.bin')).equals(bytes)).toBe(true);

      const missing = await blob(kept, ['get', createHash('sha256').update('nothing').digest('hex')]);
      expect(missing.code).toBe(1);
      expect(missing.output).toContain('BLOB_NOT_FOUND');
    },
    // Seven CLI processes, each a node's start-up cost: at load 18 on 2 cores the test took 250 s.
    8 * CLUSTER_TIMEOUT_MS,
  );

  /**
   * A failed wait for reconcile says what the reconciler did meanwhile (its actions and the
   * mesh's status), so a rare failure on a loaded machine can be told from a wrong plan.
   */
  async function withReconcileDiagnostics<T>(waiting: Promise<T>): Promise<T> {
    try {
      return await waiting;
    } catch (error) {
      const endpoint = blobs.cluster.plan(1).client;
      const described = await Promise.all(
        [
          ['actions', '--json'],
          ['status', '--json'],
        ].map(async (args) => {
          const result = await runMeshos(args, endpoint, CLI_TIMEOUT_MS).catch(String);
          return `meshos ${args.join(' ')}: ${typeof result === 'string' ? result : result.output}`;
        }),
      );
      throw new Error(`${String(error)}\n${described.join('\n')}`);
    }
  }

  it(
    'moves a blob read hot through a node without a copy to that node, and restores the copy count after kill -9 of a holder',
    async () => {
      const cluster = await blobs.start(['--chain-repair-grace-ms', String(COPY_GRACE_MS)]);
      const writer = await blobs.clientOf(1);
      const reader = await blobs.clientOf(3);

      const hot = randomBytes(64 * 1024);
      const hotPut = await eventually(
        'a put through node 1',
        () => writer.blobs.put(hot),
        CLUSTER_TIMEOUT_MS,
      );
      expect(hotPut.holders).toEqual([1]);
      // Reads through node 3 until its heat is a twentieth past the threshold (it decays while
      // they run, more so on a loaded machine), in rounds of concurrent gets.
      const heatOnReader = async (): Promise<number> =>
        (await reader.blobs.status(hotPut.id)).readers.find((entry) => entry.node === 3)?.heat ?? 0;
      let reads = 0;
      while ((await heatOnReader()) < 1.05 * BLOB_HOT_HEAT) {
        expect(reads).toBeLessThan(MAX_HOT_READS);
        await Promise.all(
          Array.from({ length: HOT_READ_ROUND }, async () => {
            expect(Buffer.from(await reader.blobs.getBytes(hotPut.id)).equals(hot)).toBe(true);
          }),
        );
        reads += HOT_READ_ROUND;
      }
      await withReconcileDiagnostics(
        eventually(
          'the hot blob moved to the node that reads it',
          async () => {
            const status = await reader.blobs.status(hotPut.id);
            if (status.holders.map((holder) => holder.node).join() === '3') return true;
            throw new Error(`holders ${JSON.stringify(status.holders)}, heat ${status.heat}`);
          },
          CLUSTER_TIMEOUT_MS,
        ),
      );
      expect((await reader.blobs.status(hotPut.id)).heat).toBeLessThan(BLOB_HOT_HEAT);
      expect((await reader.blobs.get(hotPut.id)).source).toBe(3);

      const kept = randomBytes(256 * 1024);
      const keptPut = await writer.blobs.put(kept, { replicas: 2 });
      const lost = keptPut.holders.find((id) => id !== 1)!;
      const remaining = [2, 3].find((id) => id !== lost)!;
      await cluster.kill(lost);
      const survivor = await blobs.clientOf(remaining);
      await eventually(
        'a new copy on the remaining node',
        async () => ((await holdersOf(survivor, keptPut.id)).includes(remaining) ? true : undefined),
        3 * CLUSTER_TIMEOUT_MS,
      );
      expect((await survivor.blobs.get(keptPut.id)).source).toBe(remaining);
      expect(Buffer.from(await survivor.blobs.getBytes(keptPut.id)).equals(kept)).toBe(true);
    },
    6 * CLUSTER_TIMEOUT_MS,
  );
});
