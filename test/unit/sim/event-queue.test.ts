import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../../src/lib/index.js';
import { EventQueue } from '../../../src/sim/event-queue.js';
import { Scheduler } from '../../../src/sim/scheduler.js';
import { Trace } from '../../../src/sim/trace.js';

describe('EventQueue', () => {
  it('pops by time, and by insertion order at equal times', () => {
    const queue = new EventQueue(100);
    const noop = (): void => {};
    queue.push(30, 'c', noop);
    queue.push(10, 'a1', noop);
    queue.push(20, 'b', noop);
    queue.push(10, 'a2', noop);
    queue.push(10, 'a3', noop);
    const labels: string[] = [];
    for (let event = queue.pop(); event !== undefined; event = queue.pop()) labels.push(event.label);
    expect(labels).toEqual(['a1', 'a2', 'a3', 'b', 'c']);
  });

  it('matches a stable sort for any sequence of pushes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const queue = new EventQueue(1000);
        times.forEach((time, index) => {
          queue.push(time, String(index), () => {});
        });
        const popped: string[] = [];
        for (let event = queue.pop(); event !== undefined; event = queue.pop()) popped.push(event.label);
        const expected = times
          .map((time, index) => ({ time, index }))
          .sort((a, b) => a.time - b.time || a.index - b.index)
          .map((item) => String(item.index));
        expect(popped).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses to grow past its bound', () => {
    const queue = new EventQueue(2);
    queue.push(1, 'a', () => {});
    queue.push(2, 'b', () => {});
    expect(() => queue.push(3, 'c', () => {})).toThrow(AssertionError);
  });
});

describe('Scheduler', () => {
  it('runs events in time order, advances the clock and traces each one', () => {
    const scheduler = new Scheduler(new Trace(10));
    const seen: number[] = [];
    scheduler.schedule(500, 'late', () => seen.push(scheduler.nowUs));
    scheduler.schedule(100, 'early', () => {
      seen.push(scheduler.nowUs);
      scheduler.schedule(100, 'nested', () => seen.push(scheduler.nowUs));
    });
    while (scheduler.runNext(Number.POSITIVE_INFINITY)) {
      // drain
    }
    expect(seen).toEqual([100, 200, 500]);
    expect(scheduler.trace.text()).toBe('100 early\n200 nested\n500 late\n');
  });

  it('stops at the time limit and serves as a Clock with cancellable timers', () => {
    const scheduler = new Scheduler(new Trace(0));
    const fired: string[] = [];
    scheduler.setTimer(1, () => fired.push('kept'));
    const cancelled = scheduler.setTimer(1, () => fired.push('cancelled'));
    scheduler.clearTimer(cancelled);
    scheduler.schedule(5_000, 'later', () => fired.push('later'));
    while (scheduler.runNext(2_000)) {
      // drain up to 2 ms
    }
    expect(fired).toEqual(['kept']);
    expect(scheduler.nowMs()).toBe(1);
    expect(scheduler.pendingEvents).toBe(1);
  });
});

describe('Trace', () => {
  it('digests every line but keeps only the most recent ones', () => {
    const full = new Trace(100);
    const short = new Trace(2);
    for (const line of ['a', 'b', 'c', 'd']) {
      full.record(line);
      short.record(line);
    }
    expect(short.digest()).toBe(full.digest());
    expect(short.text()).toBe('# 2 earlier lines not kept (trace digest covers all)\nc\nd\n');
    const other = new Trace(0);
    for (const line of ['ab', 'c', 'd', 'e']) other.record(line);
    expect(other.digest()).not.toBe(full.digest());
  });
});
