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
});
