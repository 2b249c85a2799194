import { describe, expect, it } from 'vitest';
import { LeaderChangedError, ProposalDroppedError, ProposalWaiters } from '../../../src/server/waiters.js';

/** Lets promise reactions run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ProposalWaiters', () => {
  it('tells how each counted proposal ended where it ends, and not membership changes', async () => {
    const outcomes: boolean[] = [];
    const waiters = new ProposalWaiters<string>((applied) => outcomes.push(applied));
    const applied = waiters.add(1, 2);
    const overwritten = waiters.add(2, 2);
    const replaced = waiters.add(3, 2);
    const replacing = waiters.add(3, 2);
    const lost = waiters.add(4, 2);
    const membership = waiters.add(5, 2, false);
    const results = [applied, overwritten, replaced, replacing, lost, membership].map((promise) =>
      promise.then(
        (value) => value,
        (error: unknown) => error,
      ),
    );
    waiters.applied(1, 2, 'one');
    waiters.applied(2, 3, 'not ours');
    waiters.applied(3, 2, 'three');
    waiters.leadershipLost(2);
    await settle();
    const [first, second, third, fourth, fifth, sixth] = await Promise.all(results);
    expect(first).toBe('one');
    expect(second).toBeInstanceOf(ProposalDroppedError);
    expect(third).toBeInstanceOf(ProposalDroppedError);
    expect(fourth).toBe('three');
    expect(fifth).toBeInstanceOf(LeaderChangedError);
    expect(sixth).toBeInstanceOf(LeaderChangedError);
    // Replaced at its index (when the next came), applied, overwritten by term 3, applied, lost;
    // the membership change is not counted.
    expect(outcomes).toEqual([false, true, false, true, false]);
  });
});
