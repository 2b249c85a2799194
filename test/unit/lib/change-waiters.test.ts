import { describe, expect, it } from 'vitest';
import { ChangeWaiters, ManualClock } from '../../../src/lib/index.js';

describe('ChangeWaiters', () => {
  it('wakes every waiter at the next change and drops them', async () => {
    const clock = new ManualClock();
    const waiters = new ChangeWaiters(clock);
    const woken: number[] = [];
    const first = waiters.next(1_000).then(() => woken.push(1));
    const second = waiters.next(1_000).then(() => woken.push(2));
    waiters.wakeAll();
    await Promise.all([first, second]);
    expect(woken).toEqual([1, 2]);
    expect(waiters.size).toBe(0);
    expect(clock.pendingTimerCount()).toBe(0);
  });

  it('a waiter whose wait ran out leaves at once (a wait with no change holds nothing)', async () => {
    const clock = new ManualClock();
    const waiters = new ChangeWaiters(clock);
    const waited = waiters.next(200);
    expect(waiters.size).toBe(1);
    clock.advance(200);
    await waited;
    expect(waiters.size).toBe(0);
  });
});
