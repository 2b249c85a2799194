/**
 * The blobs owner under the real reconcile and executor, in process: what the nodes' blobs
 * report (`observe`) goes into `reconcile`, its actions through the `ActionExecutor` to the
 * `BlobsOwner`, until a pass emits nothing. A blob whose holder is lost gets its copy count back,
 * and loses the extra copy when that holder returns;
 * a blob read hot on a node that holds no copy moves there and is cooled, and the next passes
 * leave it there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BLOB_HEAT_PER_READ } from '../../../src/blobs/index.js';
import type { NodeId } from '../../../src/lib/index.js';
import { BlobsOwner, blobsActionHandler } from '../../../src/mesh/blob-owner.js';
import {
  ActionExecutor,
  ActionIds,
  type ActionOwners,
  BLOB_HOT_HEAT,
  type ReconcileAction,
  reconcile,
} from '../../../src/reconcile/index.js';
import { desiredOf, observedNode, observedOf } from '../../support/reconcile/builders.js';
import { until } from '../../support/until.js';
import { type BlobMesh, chunksOf, collect, openBlobMesh, patternBytes, sameBytes } from './blob-mesh.js';

const MAX_ROUNDS = 10;

describe('the blobs owner under reconcile', () => {
  let mesh: BlobMesh | undefined;
  afterEach(async () => {
    await mesh?.close();
    mesh = undefined;
  });

  /** Passes of reconcile on node `runner` over the `known` nodes until one emits nothing; every action emitted. */
  async function converge(runner: NodeId, known: readonly NodeId[]): Promise<ReconcileAction[]> {
    const emitted: ReconcileAction[] = [];
    const now = () => performance.now();
    const refuse = { handle: () => undefined };
    let executor: ActionExecutor | undefined;
    const blobsOwner = blobsActionHandler(new BlobsOwner(() => mesh!.node(runner).blobs), {
      complete: (id) => executor?.complete(id, now()),
      fail: (id, reason) => executor?.fail(id, reason, now()),
    });
    const owners: ActionOwners = {
      daemons: refuse,
      replicas: refuse,
      placement: refuse,
      'avoid-list': refuse,
      maintenance: refuse,
      blobs: blobsOwner,
    };
    executor = new ActionExecutor({ owners, zoneOf: () => 'zone' });
    const ids = new ActionIds();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const { observed, desired } = await mesh!.node(runner).blobs.observe(new Set(known));
      const result = reconcile(
        observedOf({
          nodes: known.map((id) => observedNode(id)),
          blobs: observed,
          pending: executor.pending(),
        }),
        desiredOf({ blobs: desired }),
        { monotonicMs: now(), wallMs: Date.now() },
        ids,
      );
      if (result.actions.length === 0) return emitted;
      emitted.push(...result.actions.map((pending) => pending.action));
      executor.submit(result.actions, now());
      executor.drain(now());
      await until(
        () => executor!.status().inFlight === 0 && executor!.status().queued === 0,
        'the actions done',
      );
      expect(executor.status().failed).toBe(0);
    }
    throw new Error(`no quiet pass in ${MAX_ROUNDS} rounds: ${JSON.stringify(emitted)}`);
  }

  it('gives a blob its copy count back after a holder is lost', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    const bytes = patternBytes(200_000, 4);
    const { id, holders } = await mesh.node(1).blobs.put(chunksOf(bytes), 2);
    expect(holders).toEqual([1, 2]);
    mesh.down.add(2);
    const emitted = await converge(1, [1, 3]);
    expect(emitted).toEqual([{ kind: 'MigrateBlob', blob: id, from: 1, to: 3, keepSource: true }]);
    expect(await mesh.node(3).store.verify(id)).toBe(bytes.byteLength);
    const { observed } = await mesh.node(3).blobs.observe(new Set([1, 3]));
    expect(observed[0]?.holders).toEqual([1, 3]);
    expect(await converge(1, [1, 3])).toEqual([]);
  });

  it('drops the extra copy when a holder whose copy was replaced comes back, down to the count asked for', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    const bytes = patternBytes(100_000, 5);
    const { id } = await mesh.node(1).blobs.put(chunksOf(bytes), 2);
    mesh.down.add(2);
    await converge(1, [1, 3]);
    mesh.down.delete(2);
    const emitted = await converge(1, [1, 2, 3]);
    expect(emitted).toEqual([{ kind: 'DropBlobCopy', blob: id, node: 3 }]);
    expect(await mesh.node(3).store.has(id)).toBe(false);
    const status = await mesh.node(3).blobs.status(id);
    expect(status.holders.map((holder) => holder.node)).toEqual([1, 2]);
    expect(await mesh.node(2).store.verify(id)).toBe(bytes.byteLength);
    expect(await converge(1, [1, 2, 3])).toEqual([]);
  });

  it('moves a blob read hot on a node without a copy to that node, cools it, and leaves it there', async () => {
    mesh = await openBlobMesh([1, 2, 3]);
    const bytes = patternBytes(1_000, 6);
    const { id } = await mesh.node(1).blobs.put(chunksOf(bytes), 1);
    // A tenth more than the threshold: the heat decays a little while the reads run.
    for (let read = 0; read < Math.ceil((1.1 * BLOB_HOT_HEAT) / BLOB_HEAT_PER_READ); read++)
      await collect((await mesh.node(3).blobs.get(id)).chunks);
    await mesh.node(3).blobs.publishHeat();
    const emitted = await converge(2, [1, 2, 3]);
    expect(emitted.map((action) => action.kind)).toEqual(['MigrateBlob', 'ReduceHeat']);
    expect(emitted[0]).toEqual({ kind: 'MigrateBlob', blob: id, from: 1, to: 3, keepSource: false });
    expect(await mesh.node(3).store.verify(id)).toBe(bytes.byteLength);
    expect(await mesh.node(1).store.has(id)).toBe(false);
    const status = await mesh.node(2).blobs.status(id);
    expect(status.holders.map((holder) => holder.node)).toEqual([3]);
    expect(status.heat).toBeLessThan(BLOB_HOT_HEAT);
    // Served from its new home now, and quiet afterwards.
    const served = await mesh.node(3).blobs.get(id);
    expect(served.source).toBe(3);
    expect(sameBytes(await collect(served.chunks), bytes)).toBe(true);
    expect(await converge(2, [1, 2, 3])).toEqual([]);
  });
});
