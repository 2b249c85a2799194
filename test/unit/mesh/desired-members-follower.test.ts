/**
 * Operators' member counts as a node follows them: a daemon's status takes its count from here,
 * so once the records were listed a count costs no control-plane read, and puts and deletes
 * (`meshos daemon scale`, `daemon remove`) show up as they are followed.
 */
import { describe, expect, it } from 'vitest';
import {
  type ControlPlane,
  encodeRecord,
  openControlPlane,
  reconcileDesiredKey,
} from '../../../src/control/index.js';
import { ManualClock } from '../../../src/lib/index.js';
import { DesiredMembersFollower } from '../../../src/mesh/desired-members-follower.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';
import { until } from '../../support/until.js';

/** `plane` with its point reads counted. */
function countingGets(plane: ControlPlane): { plane: ControlPlane; gets: () => number } {
  let gets = 0;
  const counted = new Proxy(plane, {
    get(target, property) {
      if (property === 'get')
        return (...args: Parameters<ControlPlane['get']>) => {
          gets += 1;
          return target.get(...args);
        };
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { plane: counted, gets: () => gets };
}

describe('DesiredMembersFollower', () => {
  it('follows the counts asked for, with no read per count once listed', async () => {
    const backend = new LocalKvBackend({ clock: new ManualClock() });
    const plane = await openControlPlane({ kind: 'in-process', backend });
    const ask = (daemon: string, members: number) =>
      plane.put(reconcileDesiredKey(daemon), encodeRecord(reconcileDesiredKey(daemon), { members }));
    await ask('scaled', 3);
    const counting = countingGets(plane);
    const follower = new DesiredMembersFollower(counting.plane, new ManualClock());
    try {
      // Before the first listing the count is read.
      expect(await follower.membersOf('scaled')).toBe(3);
      expect(counting.gets()).toBe(1);
      await until(() => follower.listed, 'the first listing');
      const readsBefore = counting.gets();
      expect(await follower.membersOf('scaled')).toBe(3);
      expect(await follower.membersOf('unscaled')).toBeUndefined();
      await ask('scaled', 4);
      await until(async () => (await follower.membersOf('scaled')) === 4, 'the new count');
      // A record that does not decode is no count, as the reconciler skips it.
      await plane.put(reconcileDesiredKey('broken'), new TextEncoder().encode('{"members":"three"}'));
      await plane.delete(reconcileDesiredKey('scaled'));
      await until(async () => (await follower.membersOf('scaled')) === undefined, 'the count deleted');
      expect(await follower.membersOf('broken')).toBeUndefined();
      expect(counting.gets()).toBe(readsBefore);
    } finally {
      follower.stop();
      await plane.close();
      backend.close();
    }
  });
});
