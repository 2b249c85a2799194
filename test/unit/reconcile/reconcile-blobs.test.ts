import { describe, expect, it } from 'vitest';
import { BLOB_HOT_HEAT } from '../../../src/reconcile/index.js';
import {
  actionsOf,
  desiredOf,
  kindsOf,
  nodes,
  observedNode,
  observedOf,
  pass,
} from '../../support/reconcile/builders.js';

const photo = (replicas: number) => desiredOf({ blobs: [{ id: 'photo', replicas }] });

describe('reconcile: blobs', () => {
  it('copies a blob short of its replica count from a live holder, keeping the source', () => {
    const observed = observedOf({ nodes: nodes(3), blobs: [{ id: 'photo', holders: [2], heat: 0 }] });
    expect(actionsOf(pass(observed, photo(2)))).toEqual([
      { kind: 'MigrateBlob', blob: 'photo', from: 2, to: 1, keepSource: true },
    ]);
  });

  it('says so when no live node holds a copy', () => {
    const observed = observedOf({
      nodes: [observedNode(1, { health: 'down', downSinceWallMs: 0 }), observedNode(2)],
      blobs: [{ id: 'photo', holders: [1], heat: 0 }],
    });
    const result = pass(observed, photo(1));
    expect(result.actions).toEqual([]);
    expect(result.blocked).toEqual([{ subject: 'blob/photo', reason: 'no live node holds a copy' }]);
  });

  it('moves a hot blob from its farthest holder to its hottest reader and cools it by what triggered the move', () => {
    const observed = observedOf({
      nodes: nodes(4),
      blobs: [{ id: 'photo', holders: [1, 2], heat: BLOB_HOT_HEAT + 5, hottestReader: 4 }],
      rtt: [
        { from: 4, to: 1, rttMs: 3 },
        { from: 4, to: 2, rttMs: 40 },
      ],
    });
    expect(actionsOf(pass(observed, photo(2)))).toEqual([
      { kind: 'MigrateBlob', blob: 'photo', from: 2, to: 4, keepSource: false },
      { kind: 'ReduceHeat', blob: 'photo', by: BLOB_HOT_HEAT + 5 },
    ]);
  });

  it('leaves a blob alone below the heat threshold, when its reader holds it, or when the reader takes no placements', () => {
    const blob = { id: 'photo', holders: [1, 2], heat: BLOB_HOT_HEAT - 1, hottestReader: 4 };
    expect(pass(observedOf({ nodes: nodes(4), blobs: [blob] }), photo(2)).actions).toEqual([]);
    const readerHolds = { ...blob, heat: BLOB_HOT_HEAT, hottestReader: 2 };
    expect(pass(observedOf({ nodes: nodes(4), blobs: [readerHolds] }), photo(2)).actions).toEqual([]);
    const readerSuspect = { ...blob, heat: BLOB_HOT_HEAT };
    const suspect = [...nodes(3), observedNode(4, { health: 'suspect' })];
    expect(pass(observedOf({ nodes: suspect, blobs: [readerSuspect] }), photo(2)).actions).toEqual([]);
    expect(pass(observedOf({ nodes: nodes(3), blobs: [] }), photo(2)).blocked).toEqual([
      { subject: 'blob/photo', reason: 'the blob is not stored' },
    ]);
  });

  it('drops copies beyond the replica count from the fullest up node, never the hottest reader, and never below the count', () => {
    const observed = observedOf({
      nodes: nodes(4),
      blobs: [
        { id: 'photo', holders: [1, 2, 3, 4], heat: 1, hottestReader: 4 },
        { id: 'video', holders: [2], heat: 0 },
      ],
    });
    // Node 2 holds two copies: it gives one up first; node 4 reads the photo most: it keeps it.
    expect(
      actionsOf(
        pass(
          observed,
          desiredOf({
            blobs: [
              { id: 'photo', replicas: 2 },
              { id: 'video', replicas: 1 },
            ],
          }),
        ),
      ),
    ).toEqual([
      { kind: 'DropBlobCopy', blob: 'photo', node: 2 },
      { kind: 'DropBlobCopy', blob: 'photo', node: 3 },
    ]);
    expect(pass(observed, desiredOf({ blobs: [{ id: 'photo', replicas: 4 }] })).actions).toEqual([]);
  });

  it('drops the record entries of nodes whose copies no longer count once the count holds without them', () => {
    const observed = observedOf({
      nodes: [
        ...nodes(3),
        observedNode(4, { health: 'down', downSinceWallMs: 0 }),
        observedNode(5, { maintenance: { phase: 'Maintenance' } }),
      ],
      blobs: [{ id: 'photo', holders: [1, 2, 4, 5], heat: 0 }],
    });
    expect(actionsOf(pass(observed, photo(2)))).toEqual([
      { kind: 'DropBlobCopy', blob: 'photo', node: 4 },
      { kind: 'DropBlobCopy', blob: 'photo', node: 5 },
    ]);
    // Short of the count, the draining node's copy stays (a source) and a new one is made.
    expect(kindsOf(pass(observed, photo(3)))).toEqual(['MigrateBlob']);
  });

  it('drops nothing while a migration or a drop of the blob is pending, and a pending drop is not asked twice', () => {
    const blob = { id: 'photo', holders: [1, 2, 3], heat: 0 };
    const migrating = observedOf({
      nodes: nodes(4),
      blobs: [blob],
      pending: [
        {
          id: 7,
          emittedAtMonotonicMs: 0,
          action: { kind: 'MigrateBlob', blob: 'photo', from: 1, to: 4, keepSource: false },
        },
      ],
    });
    expect(pass(migrating, photo(2)).actions).toEqual([]);
    const dropping = observedOf({
      nodes: nodes(3),
      blobs: [blob],
      pending: [{ id: 7, emittedAtMonotonicMs: 0, action: { kind: 'DropBlobCopy', blob: 'photo', node: 3 } }],
    });
    expect(pass(dropping, photo(2)).actions).toEqual([]);
  });
});
