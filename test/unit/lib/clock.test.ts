import { describe, expect, it } from 'vitest';
import { AssertionError, ManualClock, SystemClock } from '../../../src/lib/index.js';

describe('ManualClock', () => {
  it('fires timers in due order, ties in the order they were set', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push('c@30'));
    clock.setTimer(10, () => fired.push('a@10'));
    clock.setTimer(10, () => fired.push('b@10'));
    clock.setTimer(50, () => fired.push('d@50'));
    clock.advance(40);
    expect(fired).toEqual(['a@10', 'b@10', 'c@30']);
    expect(clock.nowMs()).toBe(40);
    clock.advance(10);
    expect(fired).toEqual(['a@10', 'b@10', 'c@30', 'd@50']);
  });

  it('shows each callback the time it was due', () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    clock.setTimer(5, () => seen.push(clock.nowMs()));
    clock.setTimer(12, () => seen.push(clock.nowMs()));
    clock.advance(100);
    expect(seen).toEqual([5, 12]);
  });

  it('fires a timer set by a callback within the same advance when it falls due', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.setTimer(10, () => {
      fired.push(clock.nowMs());
      clock.setTimer(10, () => fired.push(clock.nowMs()));
    });
    clock.advance(25);
    expect(fired).toEqual([10, 20]);
  });

  it('does not fire cleared timers', () => {
    const clock = new ManualClock();
    let fired = false;
    const id = clock.setTimer(10, () => {
      fired = true;
    });
    clock.clearTimer(id);
    clock.advance(20);
    expect(fired).toBe(false);
    expect(clock.pendingTimerCount()).toBe(0);
  });

  it('refuses to go backwards', () => {
    expect(() => new ManualClock().advance(-1)).toThrow(AssertionError);
  });

  it('derives wall time from its own offset', () => {
    const clock = new ManualClock(0, 1_000);
    clock.advance(5);
    expect(clock.wallMs()).toBe(1_005);
  });
});

describe('SystemClock', () => {
  it('fires a timer after at least its delay and can clear one', async () => {
    const clock = new SystemClock();
    const start = clock.nowMs();
    let cleared = false;
    const id = clock.setTimer(1, () => {
      cleared = true;
    });
    clock.clearTimer(id);
    const elapsed = await new Promise<number>((resolve) =>
      clock.setTimer(5, () => resolve(clock.nowMs() - start)),
    );
    expect(elapsed).toBeGreaterThanOrEqual(4);
    expect(cleared).toBe(false);
  });

  it('with unrefTimers, sets timers that do not keep the process alive', () => {
    const timersKeepingAlive = (): number =>
      process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timersKeepingAlive();
    const unreferenced = new SystemClock({ unrefTimers: true });
    const quiet = unreferenced.setTimer(60_000, () => {});
    expect(timersKeepingAlive()).toBe(before);
    const referenced = new SystemClock();
    const holding = referenced.setTimer(60_000, () => {});
    expect(timersKeepingAlive()).toBe(before + 1);
    unreferenced.clearTimer(quiet);
    referenced.clearTimer(holding);
  });
});
