import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/lib/index.js';
import { OffsetWaiters } from '../../../src/mesh/daemon-offset-waiters.js';

describe('OffsetWaiters', () => {
  it('settles the waiters below the offset passed, each with its own answer, and keeps the rest', async () => {
    const clock = new ManualClock();
    const waiters = new OffsetWaiters<string>(clock, 10, 'not reached');
    const three = waiters.wait(3, 1_000);
    const five = waiters.wait(5, 1_000);
    waiters.settleBelow(4, (offset) => `reached ${offset}`);
    await expect(three).resolves.toBe('reached 3');
    waiters.settleBelow(6, (offset) => `reached ${offset}`);
    await expect(five).resolves.toBe('reached 5');
    expect(clock.pendingTimerCount()).toBe(0);
  });

  it('answers not reached after the deadline, past the bound and once closed', async () => {
    const clock = new ManualClock();
    const waiters = new OffsetWaiters<string>(clock, 2, 'not reached');
    const early = waiters.wait(1, 100);
    const late = waiters.wait(2, 1_000);
    await expect(waiters.wait(3, 1_000)).resolves.toBe('not reached');
    clock.advance(100);
    await expect(early).resolves.toBe('not reached');
    waiters.close();
    await expect(late).resolves.toBe('not reached');
    await expect(waiters.wait(4, 1_000)).resolves.toBe('not reached');
    waiters.settleBelow(10, () => 'reached');
    expect(clock.pendingTimerCount()).toBe(0);
  });

  it('settles waiters that came out of order by offset: those below, in offset order; the rest wait', async () => {
    const clock = new ManualClock();
    const waiters = new OffsetWaiters<string>(clock, 10, 'not reached');
    const seven = waiters.wait(7, 1_000);
    const two = waiters.wait(2, 1_000);
    const five = waiters.wait(5, 1_000);
    const twoAgain = waiters.wait(2, 1_000);
    const asked: number[] = [];
    waiters.settleBelow(6, (offset) => {
      asked.push(offset);
      return `reached ${offset}`;
    });
    expect(asked).toEqual([2, 2, 5]);
    await expect(Promise.all([two, twoAgain, five])).resolves.toEqual([
      'reached 2',
      'reached 2',
      'reached 5',
    ]);
    expect(waiters.size).toBe(1);
    waiters.settleBelow(8, (offset) => `reached ${offset}`);
    await expect(seven).resolves.toBe('reached 7');
    expect(waiters.size).toBe(0);
  });

  it('bounds the waiting callers, not the ones that timed out: after many deadlines it takes new waiters', async () => {
    const clock = new ManualClock();
    const waiters = new OffsetWaiters<string>(clock, 2, 'not reached');
    for (let round = 0; round < 10; round++) {
      const timedOut = [waiters.wait(100 + round, 10), waiters.wait(200 + round, 10)];
      clock.advance(10);
      await expect(Promise.all(timedOut)).resolves.toEqual(['not reached', 'not reached']);
    }
    expect(waiters.size).toBe(0);
    const one = waiters.wait(1, 1_000);
    const two = waiters.wait(2, 1_000);
    expect(waiters.size).toBe(2);
    waiters.settleBelow(3, () => 'reached');
    await expect(Promise.all([one, two])).resolves.toEqual(['reached', 'reached']);
  });
});
