import { describe, expect, it } from 'vitest';
import { MAX_CATCH_UP_TICKS, TickSchedule } from '../../../src/server/tick-schedule.js';

const INTERVAL_MS = 10;

/** Runs a schedule as a host does, each timer firing `lateMs(firing)` after it was due; ticks taken by `untilMs`. */
function ticksBy(untilMs: number, lateMs: (firing: number) => number): number {
  const schedule = new TickSchedule(INTERVAL_MS, 0);
  let nowMs = 0;
  let ticks = 0;
  for (let firing = 0; ; firing++) {
    nowMs += schedule.delayMs(nowMs) + lateMs(firing);
    if (nowMs > untilMs) return ticks;
    ticks += schedule.take(nowMs);
  }
}

describe('TickSchedule', () => {
  it('ticks once per interval when timers fire on time', () => {
    expect(ticksBy(1_000, () => 0)).toBe(100);
  });

  it('keeps to the clock when every timer fires late: the missed ticks are applied, not lost', () => {
    // A chain of late timers used to tick every 10 + 7 ms: 58 ticks in a second instead of 100.
    // Those due after the last firing before the second's end are not taken yet: one or two.
    expect(ticksBy(1_000, () => 7)).toBeGreaterThanOrEqual(99);
    expect(ticksBy(1_000, (firing) => (firing % 3) * 6)).toBeGreaterThanOrEqual(98);
  });

  it('applies at most MAX_CATCH_UP_TICKS after a stall, then resumes one interval later', () => {
    const schedule = new TickSchedule(INTERVAL_MS, 0);
    expect(schedule.take(10)).toBe(1);
    // The loop stalled for a second: the follower must read the heartbeats that waited first.
    expect(schedule.take(1_010)).toBe(MAX_CATCH_UP_TICKS);
    expect(schedule.delayMs(1_010)).toBe(INTERVAL_MS);
    expect(schedule.take(1_020)).toBe(1);
    expect(schedule.delayMs(1_020)).toBe(INTERVAL_MS);
  });

  it('counts a timer that fires early by the clock as the tick it was set for, and keeps the cadence', () => {
    const schedule = new TickSchedule(INTERVAL_MS, 0);
    expect(schedule.take(9.5)).toBe(1);
    expect(schedule.delayMs(9.5)).toBe(10.5);
    // A clock running at 90% of the timers' pace: every firing looks early, none is lost.
    let nowMs = 9.5;
    let ticks = 1;
    for (let firing = 0; firing < 99; firing++) {
      nowMs += schedule.delayMs(nowMs) * 0.9;
      ticks += schedule.take(nowMs);
    }
    expect(ticks).toBe(100);
    expect(nowMs).toBeGreaterThan(980);
  });

  it("tells how late a firing is against the tick it was due for: the event loop's delay", () => {
    const schedule = new TickSchedule(INTERVAL_MS, 0);
    expect(schedule.latenessMs(9.5)).toBe(0);
    expect(schedule.latenessMs(13)).toBe(3);
    schedule.take(13);
    // Due at 20 now, not at 13 + 10: the lateness does not carry into the next firing.
    expect(schedule.latenessMs(21)).toBe(1);
    schedule.take(21);
    expect(schedule.latenessMs(95)).toBe(65);
  });
});
