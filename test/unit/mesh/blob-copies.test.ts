/**
 * Blob copies beyond what is asked for, on three in-process nodes: a copy no record names (its
 * blob deleted while its holder was away) is deleted by its node's orphan check once the grace
 * passed, never sooner, and a listed copy never is; `DropBlobCopy` leaves a node off the record
 * and deletes its copy, refuses to go below the replica count, and under reconcile an extra copy
 * (a holder back after its copy was replaced) is dropped until the count is what was asked for.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeId } from '../../../src/lib/index.js';
import { BlobsOwner } from '../../../src/mesh/blob-owner.js';
import type { ReconcileAction } from '../../../src/reconcile/index.js';
import { rejectionCode } from '../../support/error-code.js';
import { until } from '../../support/until.js';
import { type BlobMesh, chunksOf, openBlobMesh, patternBytes } from './blob-mesh.js';

const GRACE_MS = 1_000;

describe('blob copies beyond what is asked for', () => {
  let mesh: BlobMesh | undefined;
  afterEach(async () => {
    await mesh?.close();
    mesh = undefined;
  });

  const holdersOf = async (id: string) =>
    (await mesh!.node(1).blobs.status(id)).holders.map((holder) => holder.node);
  const carryOut = (node: NodeId, id: number, action: ReconcileAction) =>
    new BlobsOwner(() => mesh!.node(node).blobs).carryOut({ id, emittedAtMonotonicMs: 0, action });

  it('deletes a copy whose blob was deleted while its holder was away, once the grace passed', async () => {
    mesh = await openBlobMesh([1, 2, 3], { orphanGraceMs: GRACE_MS });
    const { id } = await mesh.node(1).blobs.put(chunksOf(patternBytes(50_000, 3)), 2);
    const kept = await mesh.node(1).blobs.put(chunksOf(patternBytes(50_000, 4)), 3);
    mesh.down.add(2);
    const deletedAtMs = performance.now();
    await mesh.node(1).blobs.remove(id);
    expect(await mesh.node(1).store.has(id)).toBe(false);
    // Node 2 did not hear of it: its copy is an orphan now.
    expect(await mesh.node(2).store.has(id)).toBe(true);
    mesh.down.delete(2);
    await until(async () => !(await mesh!.node(2).store.has(id)), 'the orphan deleted', 15_000);
    expect(performance.now() - deletedAtMs).toBeGreaterThanOrEqual(GRACE_MS);
    expect(mesh.node(2).blobs.orphansDeleted).toBe(1);
    // The listed copies of the other blob stay, however often the nodes check.
    for (const node of [1, 2, 3]) {
      await mesh.node(node).blobs.checkOrphans();
      expect(await mesh.node(node).store.verify(kept.id)).toBe(50_000);
    }
  });

  it('keeps a copy no record names for the grace at least (a put in progress records it last)', async () => {
    mesh = await openBlobMesh([1, 2]);
    const { id } = await mesh.node(1).blobs.put(chunksOf(patternBytes(10_000, 5)), 2);
    await mesh.plane.delete(`blobs/${id}`);
    for (let check = 0; check < 3; check++) expect(await mesh.node(2).blobs.checkOrphans()).toBe(0);
    expect(await mesh.node(2).store.has(id)).toBe(true);
  });

  it('DropBlobCopy leaves the node off the record and deletes its copy, never below the replica count', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    const { id } = await mesh.node(1).blobs.put(chunksOf(patternBytes(30_000, 6)), 2);
    await carryOut(1, 1, { kind: 'MigrateBlob', blob: id, from: 1, to: 3, keepSource: true });
    expect(await holdersOf(id)).toEqual([1, 2, 3]);
    const drop: ReconcileAction = { kind: 'DropBlobCopy', blob: id, node: 3 };
    await carryOut(1, 2, drop);
    expect(await holdersOf(id)).toEqual([1, 2]);
    expect(await mesh.node(3).store.has(id)).toBe(false);
    // Again: a no-op.
    await carryOut(1, 3, drop);
    expect(await holdersOf(id)).toEqual([1, 2]);
    expect(await rejectionCode(carryOut(1, 4, { kind: 'DropBlobCopy', blob: id, node: 2 }))).toBe(
      'BLOB_COPY_NEEDED',
    );
    expect(await holdersOf(id)).toEqual([1, 2]);
    expect(await mesh.node(2).store.verify(id)).toBe(30_000);
  });
});
