/**
 * Blobs on three in-process nodes (one control plane, an in-memory blobs channel, each node its
 * own disk): a put is acknowledged with the asked-for number of durable holders, recorded; a node
 * without a copy serves a get from the nearest holder by RTT and falls back to the next when that
 * one is down or its copy is corrupt (which its holder drops and leaves the holders for); reads
 * heat the reading node; the blobs owner's MigrateBlob and ReduceHeat are idempotent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BLOB_CHUNK_BYTES, blobIdOf } from '../../../src/blobs/index.js';
import { present } from '../../../src/control/index.js';
import { SystemClock } from '../../../src/lib/index.js';
import { BlobStateFollower } from '../../../src/mesh/blob-follower.js';
import { BlobsOwner, blobsActionHandler } from '../../../src/mesh/blob-owner.js';
import type { ActionId, PendingAction, ReconcileAction } from '../../../src/reconcile/index.js';
import { rejectionCode } from '../../support/error-code.js';
import { until } from '../../support/until.js';
import {
  BLOB_DIRECTORY,
  type BlobMesh,
  chunksOf,
  collect,
  openBlobMesh,
  patternBytes,
  sameBytes,
} from './blob-mesh.js';

describe('blobs on three in-process nodes', () => {
  let mesh: BlobMesh | undefined;
  afterEach(async () => {
    await mesh?.close();
    mesh = undefined;
  });

  async function putOn(node: number, bytes: Uint8Array, replicas: number) {
    return mesh!.node(node).blobs.put(chunksOf(bytes), replicas);
  }

  it('acknowledges a put once the asked-for nodes hold a durable, checked copy, nearest first', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    mesh.rtt.set('1->3', 1);
    mesh.rtt.set('1->2', 40);
    const bytes = patternBytes(3 * BLOB_CHUNK_BYTES + 5);
    const result = await putOn(1, bytes, 2);
    expect(result).toEqual({ id: blobIdOf(bytes), size: bytes.byteLength, replicas: 2, holders: [1, 3] });
    for (const node of [1, 3]) expect(await mesh.node(node).store.verify(result.id)).toBe(bytes.byteLength);
    expect(await mesh.node(2).store.has(result.id)).toBe(false);
    const status = await mesh.node(2).blobs.status(result.id);
    expect(status).toMatchObject({ id: result.id, size: bytes.byteLength, replicas: 2 });
    expect(status.holders.map((holder) => holder.node)).toEqual([1, 3]);
  });

  it('refuses a put no node can take enough copies of, recording the copies made', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    mesh.down.add(3);
    mesh.down.add(2);
    const bytes = patternBytes(1_000);
    expect(await rejectionCode(putOn(1, bytes, 2))).toBe('BLOB_REPLICAS_UNAVAILABLE');
    const status = await mesh.node(1).blobs.status(blobIdOf(bytes));
    expect(status.holders.map((holder) => holder.node)).toEqual([1]);
    expect(status.replicas).toBe(2);
  });

  it('serves a get on a node without a copy from the nearest holder, then the next when that one is down', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    const bytes = patternBytes(2 * BLOB_CHUNK_BYTES + 99, 5);
    const { id } = await putOn(1, bytes, 2);
    expect((await mesh.node(3).blobs.status(id)).holders.map((holder) => holder.node)).toEqual([1, 2]);
    mesh.rtt.set('3->2', 1);
    mesh.rtt.set('3->1', 30);
    const near = await mesh.node(3).blobs.get(id);
    expect(near.source).toBe(2);
    expect(sameBytes(await collect(near.chunks), bytes)).toBe(true);
    mesh.down.add(2);
    const far = await mesh.node(3).blobs.get(id);
    expect(far.source).toBe(1);
    expect(sameBytes(await collect(far.chunks), bytes)).toBe(true);
    // What the non-holder fetched to serve is not kept.
    expect(await mesh.node(3).store.has(id)).toBe(false);
    expect(await mesh.node(3).disk.list(`${BLOB_DIRECTORY}/tmp`)).toEqual([]);
  });

  it('detects a corrupt copy, does not serve it, tries the next holder, and drops the corrupt copy', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    const bytes = patternBytes(BLOB_CHUNK_BYTES + 1_000, 9);
    const { id } = await putOn(1, bytes, 2);
    mesh.rtt.set('3->2', 1);
    mesh.rtt.set('3->1', 30);
    mesh.node(2).disk.flipBit(`${BLOB_DIRECTORY}/${id}`, 17);
    const read = await mesh.node(3).blobs.get(id);
    expect(read.source).toBe(1);
    expect(sameBytes(await collect(read.chunks), bytes)).toBe(true);
    expect(mesh.node(2).blobs.corruptCopies).toBe(1);
    expect(await mesh.node(2).store.has(id)).toBe(false);
    expect((await mesh.node(3).blobs.status(id)).holders.map((holder) => holder.node)).toEqual([1]);

    // A holder's own corrupt copy is not served either: it reads another holder's.
    await mesh.node(1).blobs.migrate(id, 1, 3, true);
    mesh.node(1).disk.flipBit(`${BLOB_DIRECTORY}/${id}`, 5);
    const own = await mesh.node(1).blobs.get(id);
    expect(own.source).toBe(3);
    expect(sameBytes(await collect(own.chunks), bytes)).toBe(true);
  });

  it('answers BLOB_NOT_FOUND and BLOB_ID_INVALID', async () => {
    mesh = await openBlobMesh([1, 2]);
    expect(await rejectionCode(mesh.node(1).blobs.get(blobIdOf(patternBytes(4))))).toBe('BLOB_NOT_FOUND');
    expect(await rejectionCode(mesh.node(1).blobs.status('nope'))).toBe('BLOB_ID_INVALID');
    expect(await rejectionCode(putOn(1, patternBytes(4), 0))).toBe('VALIDATION_FAILED');
  });

  it('leaves the holders of a blob whose copy is no longer on the node (a lost disk)', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    const { id } = await putOn(1, patternBytes(500), 2);
    await mesh.node(2).store.remove(id);
    expect(await mesh.node(2).blobs.leaveHoldersOfMissingCopies()).toBe(1);
    expect((await mesh.node(1).blobs.status(id)).holders.map((holder) => holder.node)).toEqual([1]);
    expect(await mesh.node(1).blobs.leaveHoldersOfMissingCopies()).toBe(0);
  });

  it('answers the reconciler synchronously from the followed records, and says when a record changed', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    const follower = new BlobStateFollower(mesh.plane, new SystemClock());
    try {
      let changes = 0;
      follower.onChange(() => {
        changes += 1;
      });
      expect(follower.state()).toEqual({ observed: [], desired: [] });
      const { id } = await putOn(1, patternBytes(700), 2);
      await until(() => follower.state().observed.length === 1, 'the put followed');
      expect(follower.state()).toEqual({
        observed: [{ id, holders: [1, 2], heat: 0 }],
        desired: [{ id, replicas: 2 }],
      });
      expect(changes).toBeGreaterThan(0);
      for (let read = 0; read < 5; read++) await collect((await mesh.node(3).blobs.get(id)).chunks);
      await mesh.node(3).blobs.publishHeat();
      await until(() => follower.state().observed[0]?.hottestReader === 3, 'the heat row followed');
      // Five reads, a little decayed, in whole reads.
      expect(follower.state().observed[0]?.heat).toBeGreaterThanOrEqual(4);
      expect(follower.state().observed[0]?.heat).toBeLessThanOrEqual(5);
    } finally {
      follower.stop();
    }
  });

  it('publishes its heat row again under a new lease when the old lease (and the row with it) was lost', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    const follower = new BlobStateFollower(mesh.plane, new SystemClock());
    try {
      const { id } = await putOn(1, patternBytes(700), 1);
      for (let read = 0; read < 3; read++) await collect((await mesh.node(3).blobs.get(id)).chunks);
      await mesh.node(3).blobs.publishHeat();
      await until(() => follower.state().observed[0]?.hottestReader === 3, 'the heat row followed');
      await mesh.replaceLease(3);
      await until(
        () => follower.state().observed[0]?.hottestReader === undefined,
        'the row gone with its lease',
      );
      // No read since: the heat did not change, but the row is missing.
      await mesh.node(3).blobs.publishHeat();
      await until(() => follower.state().observed[0]?.hottestReader === 3, 'the row published again');
    } finally {
      follower.stop();
    }
  });

  it('heats the node that reads, not the holder that serves', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    const { id } = await putOn(1, patternBytes(100), 1);
    for (let read = 0; read < 3; read++) await collect((await mesh.node(3).blobs.get(id)).chunks);
    const status = await mesh.node(3).blobs.status(id);
    expect(status.readers.map((reader) => reader.node)).toEqual([3]);
    expect(status.readers[0]?.heat).toBeGreaterThan(2.9);
    expect(status.holders).toEqual([{ node: 1, heat: 0 }]);
  });

  describe('the blobs owner', () => {
    function ownerOf(node: number) {
      const done = new Map<ActionId, string>();
      const owner = blobsActionHandler(new BlobsOwner(() => mesh!.node(node).blobs), {
        complete: (id) => done.set(id, 'completed'),
        fail: (id, reason) => done.set(id, `failed: ${reason}`),
      });
      const run = async (id: ActionId, action: ReconcileAction): Promise<string> => {
        const pending: PendingAction = { id, emittedAtMonotonicMs: 0, action };
        owner.handle(pending);
        await until(() => done.has(id), `action ${id} answered`);
        return done.get(id) as string;
      };
      return run;
    }

    it('moves a copy (MigrateBlob) and doing it again changes nothing', async () => {
      mesh = await openBlobMesh([1, 2, 3]);
      const bytes = patternBytes(BLOB_CHUNK_BYTES * 2 + 1, 11);
      const { id } = await putOn(1, bytes, 2);
      const run = ownerOf(2);
      const move: ReconcileAction = { kind: 'MigrateBlob', blob: id, from: 1, to: 3, keepSource: false };
      expect(await run(1, move)).toBe('completed');
      const holdersAfter = async () =>
        (await mesh!.node(2).blobs.status(id)).holders.map((holder) => holder.node);
      expect(await holdersAfter()).toEqual([2, 3]);
      expect(await mesh.node(1).store.has(id)).toBe(false);
      expect(await mesh.node(3).store.verify(id)).toBe(bytes.byteLength);
      expect(await run(2, move)).toBe('completed');
      expect(await holdersAfter()).toEqual([2, 3]);
      expect(await mesh.node(3).store.verify(id)).toBe(bytes.byteLength);

      // A copy kept at the source adds a holder (the replica count's repair).
      expect(await run(3, { kind: 'MigrateBlob', blob: id, from: 3, to: 1, keepSource: true })).toBe(
        'completed',
      );
      expect(await holdersAfter()).toEqual([1, 2, 3]);
    });

    it('fails a MigrateBlob of a blob not stored, and one whose source and holders are all down', async () => {
      mesh = await openBlobMesh([1, 2, 3]);
      const run = ownerOf(1);
      const missing = blobIdOf(patternBytes(8));
      expect(await run(1, { kind: 'MigrateBlob', blob: missing, from: 2, to: 3, keepSource: true })).toMatch(
        /^failed: .*not stored/,
      );
      const { id } = await putOn(2, patternBytes(64), 1);
      mesh.down.add(2);
      expect(await run(2, { kind: 'MigrateBlob', blob: id, from: 2, to: 3, keepSource: true })).toMatch(
        /^failed:/,
      );
      expect((await mesh.node(1).blobs.status(id)).holders.map((holder) => holder.node)).toEqual([2]);
    });

    it('refuses a change whose reconciler term ended (its fence fails) and changes no record', async () => {
      mesh = await openBlobMesh([1, 2, 3]);
      const { id } = await putOn(1, patternBytes(300), 1);
      const owner = new BlobsOwner(() => mesh!.node(2).blobs);
      const ended = [present('reconciler-term-that-ended')];
      const pending = (action: ReconcileAction): PendingAction => ({
        id: 1,
        emittedAtMonotonicMs: 0,
        action,
      });
      expect(
        await rejectionCode(owner.carryOut(pending({ kind: 'ReduceHeat', blob: id, by: 3 }), ended)),
      ).toBe('BLOB_ACTION_FENCED');
      expect(
        await rejectionCode(
          owner.carryOut(
            pending({ kind: 'MigrateBlob', blob: id, from: 1, to: 3, keepSource: false }),
            ended,
          ),
        ),
      ).toBe('BLOB_ACTION_FENCED');
      expect((await mesh.node(2).blobs.status(id)).holders.map((holder) => holder.node)).toEqual([1]);
      expect(await mesh.node(1).store.has(id)).toBe(true);
      // The same actions under a fence that holds go through.
      await mesh.plane.put('reconciler-term-now', new Uint8Array([1]));
      const live = [present('reconciler-term-now')];
      await owner.carryOut(
        pending({ kind: 'MigrateBlob', blob: id, from: 1, to: 3, keepSource: false }),
        live,
      );
      expect((await mesh.node(2).blobs.status(id)).holders.map((holder) => holder.node)).toEqual([3]);
    });

    it('cools a blob once per ReduceHeat action', async () => {
      mesh = await openBlobMesh([1, 2]);
      const { id } = await putOn(1, patternBytes(64), 1);
      for (let read = 0; read < 10; read++) await collect((await mesh.node(2).blobs.get(id)).chunks);
      // Node 1 sees node 2's reads once node 2 published them.
      await mesh.node(2).blobs.publishHeat();
      expect((await mesh.node(1).blobs.status(id)).readers.map((reader) => reader.node)).toEqual([2]);
      const run = ownerOf(1);
      const before = (await mesh.node(1).blobs.status(id)).heat;
      expect(await run(7, { kind: 'ReduceHeat', blob: id, by: 4 })).toBe('completed');
      expect(await run(7, { kind: 'ReduceHeat', blob: id, by: 4 })).toBe('completed');
      const after = (await mesh.node(1).blobs.status(id)).heat;
      // Once, not twice (allowing for the decay between the two looks).
      expect(after).toBeGreaterThan(before - 4 - 0.5);
      expect(after).toBeLessThan(before - 4 + 0.01);
      expect(await run(8, { kind: 'ReduceHeat', blob: id, by: 4 })).toBe('completed');
      expect((await mesh.node(1).blobs.status(id)).heat).toBeLessThan(before - 8 + 0.01);
    });
  });
});
