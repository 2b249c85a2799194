/**
 * Read heat: halves every half-life, adds up reads, forgets what cooled below the floor, keeps at
 * most its bound of blobs (the coolest go first); what reconcile observes is the readers' heat
 * less what reconcile cooled, the hottest reader among the nodes it knows, whole reads.
 */
import { describe, expect, it } from 'vitest';
import {
  BLOB_HEAT_HALF_LIFE_MS,
  type BlobRecord,
  blobIdOf,
  decayedHeat,
  HeatCounter,
  MIN_TRACKED_BLOB_HEAT,
  observeBlobs,
} from '../../../src/blobs/index.js';

const A = blobIdOf(new Uint8Array([1]));
const B = blobIdOf(new Uint8Array([2]));
const C = blobIdOf(new Uint8Array([3]));
const H = BLOB_HEAT_HALF_LIFE_MS;

describe('heat decay', () => {
  it('halves every half-life and never grows backwards in time', () => {
    expect(decayedHeat(8, 0, H)).toBeCloseTo(4, 10);
    expect(decayedHeat(8, 0, 3 * H)).toBeCloseTo(1, 10);
    expect(decayedHeat(8, 1_000, 0)).toBe(8);
  });

  it('adds reads to the decayed heat and forgets a blob once it cooled below the floor', () => {
    const heat = new HeatCounter();
    for (let read = 0; read < 8; read++) heat.add(A, 1, 0);
    expect(heat.heatOf(A, 0)).toBe(8);
    heat.add(A, 1, H);
    expect(heat.heatOf(A, H)).toBeCloseTo(5, 10);
    expect(heat.heatOf(A, 2 * H)).toBeCloseTo(2.5, 10);
    expect(heat.takeChanged()).toBe(true);
    expect(heat.takeChanged()).toBe(false);
    const cold = H * Math.ceil(Math.log2(5 / MIN_TRACKED_BLOB_HEAT) + 1);
    expect([...heat.snapshot(cold).keys()]).toEqual([]);
    expect(heat.takeChanged()).toBe(true);
  });

  it('keeps at most its bound of blobs, forgetting the coolest', () => {
    const heat = new HeatCounter(H, 2);
    heat.add(A, 5, 0);
    heat.add(B, 1, 0);
    heat.add(C, 3, 0);
    expect([...heat.snapshot(0).keys()].sort()).toEqual([A, C].sort());
  });
});

describe('observeBlobs', () => {
  const record: BlobRecord = { id: A, size: 10, replicas: 2, holders: [1, 2, 9], createdAtWallMs: 0 };

  it('sums the readers decayed to now, less the cooling, as whole reads; names the hottest known reader', () => {
    const rows = [
      { node: 1, atWallMs: 0, heats: [[A, 100]] as const },
      { node: 3, atWallMs: 0, heats: [[A, 1_000]] as const },
      { node: 9, atWallMs: 0, heats: [[A, 5_000]] as const },
    ];
    const known = new Set([1, 2, 3]);
    const { observed, desired } = observeBlobs([record], rows, H, known);
    // Node 9 left: its copy and its reads do not count as a holder or the hottest reader.
    expect(observed).toEqual([
      { id: A, holders: [1, 2], heat: Math.floor((100 + 1_000 + 5_000) / 2), hottestReader: 3 },
    ]);
    expect(desired).toEqual([{ id: A, replicas: 2 }]);

    const cooled: BlobRecord = { ...record, cooling: { heat: 6_000, atWallMs: 0, lastActionId: 4 } };
    const after = observeBlobs([cooled], rows, H, known).observed[0];
    expect(after?.heat).toBe(50);
    // Without a known set, every node named counts (a reconciler that observes departed nodes as down).
    expect(observeBlobs([record], rows, H).observed[0]).toMatchObject({
      holders: [1, 2, 9],
      hottestReader: 9,
    });
    const allCooled: BlobRecord = { ...record, cooling: { heat: 10_000, atWallMs: 0, lastActionId: 4 } };
    expect(observeBlobs([allCooled], rows, H, known).observed[0]).toEqual({
      id: A,
      holders: [1, 2],
      heat: 0,
    });
  });
});
