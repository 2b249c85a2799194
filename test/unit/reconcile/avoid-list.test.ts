import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import { AvoidList, avoidedAt, MAX_AVOID_ENTRIES, MAX_AVOID_TTL_MS } from '../../../src/reconcile/index.js';

describe('avoid list', () => {
  it('avoids a peer for its TTL and forgets it once expired', () => {
    const list = new AvoidList();
    list.mark(3, 'operator', 1_000, 10_000);
    expect(list.isAvoided(3, 10_999)).toBe(true);
    expect(list.isAvoided(3, 11_000)).toBe(false);
    expect(list.active(10_500)).toEqual([{ node: 3, reason: 'operator', untilWallMs: 11_000 }]);
    expect(list.expire(10_500)).toBe(0);
    expect(list.expire(11_000)).toBe(1);
    expect(list.active(10_500)).toEqual([]);
  });

  it('keeps the later expiry when a peer is marked again, so marking twice is a no-op', () => {
    const list = new AvoidList();
    const first = list.mark(3, 'slow', 5_000, 0);
    expect(list.mark(3, 'slow again', 1_000, 100)).toBe(first);
    expect(list.mark(3, 'longer', 10_000, 100).untilWallMs).toBe(10_100);
  });

  it('refuses a bad TTL and a full list with typed errors', () => {
    const list = new AvoidList();
    for (const ttl of [0, -1, 1.5, MAX_AVOID_TTL_MS + 1, Number.NaN]) {
      expect(() => list.mark(1, 'x', ttl, 0)).toThrowError(
        expect.objectContaining({ code: 'AVOID_TTL_INVALID' }),
      );
    }
    for (let node = 1; node <= MAX_AVOID_ENTRIES; node++) list.mark(node, 'x', 1_000, 0);
    let error: unknown;
    try {
      list.mark(MAX_AVOID_ENTRIES + 1, 'x', 1_000, 500);
    } catch (caught) {
      error = caught;
    }
    expect(isMeshError(error, 'AVOID_LIST_FULL')).toBe(true);
    // Once the old entries expired there is room again.
    expect(list.mark(MAX_AVOID_ENTRIES + 1, 'x', 1_000, 1_000).node).toBe(MAX_AVOID_ENTRIES + 1);
  });

  it('answers which nodes observed entries avoid at a time', () => {
    const entries = [
      { node: 1, reason: 'a', untilWallMs: 100 },
      { node: 2, reason: 'b', untilWallMs: 50 },
    ];
    expect([...avoidedAt(entries, 60)]).toEqual([1]);
  });
});
