import { describe, expect, it } from 'vitest';
import {
  EventLoopOwnDelay,
  FRESH_READING_MS,
  parseSchedstat,
  RunQueueWaitLog,
  StepDurations,
} from '../../../src/lib/index.js';
import { MainThreadSchedule } from '../../../src/lib/node/index.js';
import { ScriptedThread } from './scripted-thread.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('parseSchedstat', () => {
  it('reads on-CPU and run-queue wait from nanoseconds', () => {
    const text = bytes('2704380072 15260074 46\n');
    expect(parseSchedstat(text, text.length)).toEqual({ onCpuMs: 2704.380072, runQueueWaitMs: 15.260074 });
  });

  it('refuses text that is not three counters, or a read cut inside the second', () => {
    for (const text of ['', '\n', ' 12 34 5\n', 'abc def 1\n', '12  34 5\n', '12 34']) {
      expect(parseSchedstat(bytes(text), text.length), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('reads this process when Linux keeps the counters', () => {
    const schedule = new MainThreadSchedule();
    const first = schedule.runQueueWaitMs();
    if (process.platform === 'linux') expect(first).toBeGreaterThanOrEqual(0);
    schedule.close();
    expect(schedule.runQueueWaitMs()).toBeUndefined();
    expect(new MainThreadSchedule('/nonexistent/schedstat').runQueueWaitMs()).toBeUndefined();
  });
});

describe('RunQueueWaitLog', () => {
  it('reads again as a step starts only when the newest reading is stale', () => {
    const thread = new ScriptedThread();
    const log = new RunQueueWaitLog(thread);
    const readsAtStart = thread.reads;
    log.refresh();
    thread.pass(FRESH_READING_MS / 2);
    log.refresh();
    expect(thread.reads).toBe(readsAtStart);
    thread.pass(FRESH_READING_MS * 2);
    log.refresh();
    expect(thread.reads).toBe(readsAtStart + 1);
  });

  it('counts the wait since the newest reading at or before a step began', () => {
    const thread = new ScriptedThread();
    const log = new RunQueueWaitLog(thread);
    thread.pass(500, 200); // waiting before the step does not count against it
    log.refresh();
    const startMs = thread.nowMs();
    thread.pass(80, 30);
    log.refresh(); // a nested step's reading in the middle changes nothing
    thread.pass(40, 10);
    expect(log.waitSinceMs(startMs)).toBe(40);
  });

  it('brackets a past pause between the readings around it', () => {
    const thread = new ScriptedThread();
    const log = new RunQueueWaitLog(thread);
    thread.pass(10, 5);
    log.read();
    const pauseStartMs = thread.nowMs();
    thread.pass(60, 45);
    log.read();
    thread.pass(100, 100); // after the pause: not its wait
    log.read();
    expect(log.waitOverMs(pauseStartMs, pauseStartMs + 60)).toBe(45);
  });

  it('reports no wait when the counter cannot be read', () => {
    const thread = new ScriptedThread();
    thread.readable = false;
    const log = new RunQueueWaitLog(thread);
    thread.pass(100, 100);
    expect(log.available).toBe(false);
    expect(log.waitSinceMs(thread.nowMs() - 100)).toBe(0);
  });

  it('falls back to the oldest kept reading when the ring no longer holds the start', () => {
    const thread = new ScriptedThread();
    const log = new RunQueueWaitLog(thread, 4);
    const startMs = thread.nowMs();
    for (let reading = 0; reading < 10; reading++) {
      thread.pass(10, 5);
      log.read();
    }
    // The oldest kept reading is later than the start: less wait than there was, never more.
    expect(log.waitSinceMs(startMs)).toBeLessThan(50);
    expect(log.waitSinceMs(startMs)).toBeGreaterThan(0);
  });
});

describe('StepDurations with the run queue', () => {
  it('counts a step stretched by waiting for a CPU as long by wall time only', () => {
    const thread = new ScriptedThread();
    const steps = new StepDurations(new RunQueueWaitLog(thread));
    steps.started();
    const startMs = thread.nowMs();
    thread.pass(120, 100);
    steps.observe('ready', thread.nowMs() - startMs);
    expect([steps.longestMs('ready'), steps.longCount('ready')]).toEqual([120, 1]);
    expect([steps.longestOwnMs('ready'), steps.longOwnCount('ready')]).toEqual([20, 0]);
  });

  it('counts a step that computed or blocked (an inline fdatasync) as long by its own time', () => {
    const thread = new ScriptedThread();
    const steps = new StepDurations(new RunQueueWaitLog(thread));
    steps.started();
    thread.pass(90, 5);
    steps.observe('inline-sync', 90);
    expect([steps.longestOwnMs('inline-sync'), steps.longOwnCount('inline-sync')]).toEqual([85, 1]);
  });

  it('reads the counter at a step end only when the step could matter', () => {
    const thread = new ScriptedThread();
    const steps = new StepDurations(new RunQueueWaitLog(thread));
    steps.started();
    thread.pass(5);
    steps.observe('apply', 5);
    const reads = thread.reads;
    for (let step = 0; step < 100; step++) {
      steps.started();
      thread.pass(0.001);
      steps.observe('apply', 0.001 + (step % 2) * 3);
    }
    expect(thread.reads).toBe(reads);
    expect(steps.longestMs('apply')).toBeCloseTo(5, 3);
  });

  it('splits a GC pause heard about later by the readings around it', () => {
    const thread = new ScriptedThread();
    const log = new RunQueueWaitLog(thread);
    const steps = new StepDurations(log);
    const pauseStartMs = thread.nowMs();
    thread.pass(70, 50);
    log.read();
    steps.observePast('gc-major', pauseStartMs, 70);
    expect([steps.longestMs('gc-major'), steps.longestOwnMs('gc-major')]).toEqual([70, 20]);
  });

  it('takes own time as wall time without a run-queue log', () => {
    const steps = new StepDurations();
    steps.started();
    steps.observe('peer-message', 60);
    expect([steps.longestOwnMs('peer-message'), steps.longOwnCount('peer-message')]).toEqual([60, 1]);
  });
});

describe('EventLoopOwnDelay', () => {
  it("splits each window's worst delay into the run-queue wait and the loop's own work", () => {
    const probe = new EventLoopOwnDelay();
    probe.observe(0, 0);
    probe.observe(110, 110); // 110 ms late, all of it waiting for a CPU
    probe.observe(0, 110);
    probe.observe(70, 115); // 70 ms late, 5 of them waiting
    expect([probe.latenessMs, probe.ownLatenessMs]).toEqual([70, 65]);
    expect(probe.closeWindow()).toEqual({ wallMaxMs: 110, ownMaxMs: 65 });
    probe.observe(0, 115);
    expect(probe.closeWindow()).toEqual({ wallMaxMs: 0, ownMaxMs: 0 });
  });

  it('counts the whole first lateness as own: no wait is known before it', () => {
    const probe = new EventLoopOwnDelay();
    probe.observe(30, 500);
    expect(probe.closeWindow()).toEqual({ wallMaxMs: 30, ownMaxMs: 30 });
  });
});
