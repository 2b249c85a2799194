import { describe, expect, it } from 'vitest';
import {
  leastSaturatedReplica,
  type ReplicaLoad,
  replicaForKey,
  routeReplicaEvent,
} from '../../../src/daemons/index.js';

const idle = (count: number): ReplicaLoad[] =>
  Array.from({ length: count }, (_, index) => ({ index, available: true, saturation: 0, inFlight: 0 }));

const keys = Array.from({ length: 3_000 }, (_, index) => `customer-${index}`);

describe('routing a replica group event by its key', () => {
  it('sends a key to one member, the same every time, and spreads keys over every member', () => {
    const counts = [0, 0, 0];
    for (const key of keys) {
      const member = replicaForKey(key, 3);
      expect(member).toBe(replicaForKey(key, 3));
      counts[member]! += 1;
    }
    // 1,000 keys a member on average; a hash that favoured one member would leave another short.
    for (const count of counts) expect(count).toBeGreaterThan(800);
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(keys.length);
  });

  it('moves only keys to a member that was added (rendezvous hashing)', () => {
    let moved = 0;
    for (const key of keys) {
      const before = replicaForKey(key, 3);
      const after = replicaForKey(key, 4);
      if (after !== before) {
        expect(after).toBe(3);
        moved += 1;
      }
    }
    // About a quarter of the keys go to the new member; none moves between the old ones.
    expect(moved).toBeGreaterThan(keys.length / 8);
    expect(moved).toBeLessThan(keys.length / 2);
  });

  it('routes by key first, then by client id, and keeps a key on its member even while that member is away', () => {
    const loads = idle(3).map((load) =>
      load.index === replicaForKey('k', 3) ? { ...load, available: false } : load,
    );
    expect(routeReplicaEvent({ key: 'k', clientId: 'c' }, loads, 0)).toEqual({
      index: replicaForKey('k', 3),
      reason: 'key',
    });
    expect(routeReplicaEvent({ clientId: 'c' }, loads, 0)).toEqual({
      index: replicaForKey('c', 3),
      reason: 'client',
    });
    // A client's retries find the member that may have applied the first try, whatever the load.
    for (let turn = 0; turn < 5; turn++)
      expect(routeReplicaEvent({ clientId: 'c' }, loads, turn)?.index).toBe(replicaForKey('c', 3));
  });
});

describe('routing an event without key or client id to the least saturated member', () => {
  it('takes the lowest saturation, then the fewest sends in flight, skipping members away', () => {
    const loads: ReplicaLoad[] = [
      { index: 0, available: true, saturation: 0.5, inFlight: 0 },
      { index: 1, available: false, saturation: 0, inFlight: 0 },
      { index: 2, available: true, saturation: 0.2, inFlight: 9 },
      { index: 3, available: true, saturation: 0.2, inFlight: 4 },
    ];
    expect(leastSaturatedReplica(loads, 0)).toBe(3);
    expect(routeReplicaEvent({}, loads, 7)).toEqual({ index: 3, reason: 'load' });
  });

  it('shares events out among tied members turn by turn', () => {
    const chosen = Array.from({ length: 6 }, (_, turn) => leastSaturatedReplica(idle(3), turn));
    expect(chosen).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('answers no member when none is available', () => {
    expect(
      routeReplicaEvent(
        {},
        idle(2).map((load) => ({ ...load, available: false })),
        0,
      ),
    ).toBeUndefined();
  });
});
