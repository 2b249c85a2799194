/**
 * `meshos blob ...` end to end on three voters started with the built `meshos start`: a 3 MiB file
 * put with --replicas 2 prints its SHA-256 and is held (checked) by two nodes; the node without a
 * copy serves a get (fetched from a holder) byte for byte; status --json has its documented
 * shape and counts the reads on the reading node; after kill -9 of a holder the blob is still
 * read, through the node without a copy and through the surviving holder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './chain-cluster.js';
import { exitCode, meshos } from './meshos-process.js';
import { ProcessCluster } from './process-cluster.js';

const CLI_TIMEOUT_MS = 60_000;
const CLUSTER_TIMEOUT_MS = 60_000;
const STARTUP_TIMEOUT_MS = 90_000;
const FILE_BYTES = 3 * 1024 * 1024 + 17;

describe('meshos blob on three nodes', () => {
  let cluster: ProcessCluster | undefined;
  afterEach(async () => {
    await cluster?.stopAll();
    cluster = undefined;
  });

  async function blob(id: number, args: string[]): Promise<{ code: number | null; output: string }> {
    const running = meshos(['blob', ...args, '--endpoints', cluster!.plan(id).client]);
    const code = await exitCode(running, CLI_TIMEOUT_MS);
    return { code, output: running.output() };
  }

  async function blobJson(id: number, args: string[]): Promise<Record<string, unknown>> {
    const result = await blob(id, [...args, '--json']);
    if (result.code !== 0)
      throw new Error(`meshos blob ${args.join(' ')} exited ${result.code}: ${result.output}`);
    return JSON.parse(result.output) as Record<string, unknown>;
  }

  /** `blob get` through node `via` into a file; its bytes. */
  async function getThrough(via: number, blobId: string, name: string): Promise<Buffer> {
    const target = path.join(cluster!.root, name);
    const result = await blob(via, ['get', blobId, '-o', target]);
    if (result.code !== 0)
      throw new Error(`blob get through node ${via} exited ${result.code}: ${result.output}`);
    return readFile(target);
  }

  it(
    'puts with --replicas 2, gets through a node without a copy, and still gets after kill -9 of a holder',
    async () => {
      cluster = await ProcessCluster.create(3);
      cluster.startAll();
      await cluster.waitForLeader(STARTUP_TIMEOUT_MS);
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
    4 * CLUSTER_TIMEOUT_MS,
  );
});
