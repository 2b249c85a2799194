import { describe, expect, it } from 'vitest';
import {
  GC_REPORT_DELAY_MS,
  GcInsideSteps,
  LONG_STEPS_PENDING,
  type LongPause,
  type LongStepOutsideGc,
  RunQueueWaitLog,
  StepDurations,
} from '../../../src/lib/index.js';
import { ScriptedThread } from './scripted-thread.js';

describe('GcInsideSteps', () => {
  it('takes the GC pauses heard about later out of the long steps they fell in', () => {
    const judged = new GcInsideSteps(50);
    judged.longStep({ source: 'apply', startMs: 0, endMs: 90, ownMs: 90 });
    judged.longStep({ source: 'ready', startMs: 100, endMs: 160, ownMs: 60 });
    judged.pause(20, 50, 50); // inside the apply
    judged.pause(150, 20, 10); // half inside the ready
    judged.settle(160 + GC_REPORT_DELAY_MS);
    expect([judged.countOutsideGc('apply'), judged.longestOutsideGcMs('apply')]).toEqual([0, 40]);
    expect([judged.countOutsideGc('ready'), judged.longestOutsideGcMs('ready')]).toEqual([1, 55]);
  });

  it('judges a step only once no pause inside it can still be unheard of', () => {
    const judged = new GcInsideSteps(50);
    judged.longStep({ source: 'peer-message', startMs: 0, endMs: 80, ownMs: 80 });
    judged.settle(80 + GC_REPORT_DELAY_MS - 1);
    expect(judged.countOutsideGc('peer-message')).toBe(0);
    judged.pause(10, 60, 60);
    judged.settle(80 + GC_REPORT_DELAY_MS);
    expect([judged.countOutsideGc('peer-message'), judged.longestOutsideGcMs('peer-message')]).toEqual([
      0, 20,
    ]);
  });

  it(`keeps at most ${LONG_STEPS_PENDING} steps waiting, judging the oldest first`, () => {
    const judged = new GcInsideSteps(50);
    for (let step = 0; step <= LONG_STEPS_PENDING; step++)
      judged.longStep({ source: 'ready', startMs: step, endMs: step + 0.5, ownMs: 70 });
    expect(judged.countOutsideGc('ready')).toBe(1);
  });
});

describe('StepDurations: a long GC pause and the main thread on a CPU', () => {
  it('tells how much of a long pause the main thread spent on a CPU, waiting for neither', () => {
    const thread = new ScriptedThread();
    const pauses: LongPause[] = [];
    const steps = new StepDurations(new RunQueueWaitLog(thread), undefined, (pause) => pauses.push(pause));
    steps.started();
    const pauseStartMs = thread.nowMs();
    // 120 ms: 30 waiting on the run queue, 12 on a CPU, the rest blocked (on V8's helpers).
    thread.pass(120, 30, 12);
    steps.observePast('gc-minor', pauseStartMs, 120);
    expect(pauses).toEqual([
      { source: 'gc-minor', startMs: pauseStartMs, wallMs: 120, ownMs: 90, mainThreadCpuMs: 12 },
    ]);
  });
});

describe('StepDurations: own time outside GC', () => {
  it('counts a long own step only when it stays long once the GC inside it is taken out', () => {
    const thread = new ScriptedThread();
    const steps = new StepDurations(new RunQueueWaitLog(thread));
    // A 100 ms apply, 80 ms of it a GC pause (no run-queue wait anywhere).
    steps.started();
    const applyStartMs = thread.nowMs();
    thread.pass(100);
    steps.observe('apply', 100);
    // A 70 ms Ready with no GC in it.
    steps.started();
    thread.pass(70);
    steps.observe('ready', 70);
    steps.observePast('gc-major', applyStartMs + 10, 80);
    thread.pass(GC_REPORT_DELAY_MS);
    steps.settle();
    expect([steps.longOwnCount('apply'), steps.longOwnCountOutsideGc('apply')]).toEqual([1, 0]);
    expect(steps.longestOwnOutsideGcMs('apply')).toBe(20);
    expect([steps.longOwnCount('ready'), steps.longOwnCountOutsideGc('ready')]).toEqual([1, 1]);
    expect([steps.longestOwnMs('gc-major'), steps.longOwnCount('gc-major')]).toEqual([80, 1]);
  });

  it('tells its observers of each long step outside GC, with what the step did, and of each long GC pause', () => {
    const thread = new ScriptedThread();
    const heard: LongStepOutsideGc[] = [];
    const pauses: LongPause[] = [];
    const steps = new StepDurations(
      new RunQueueWaitLog(thread),
      (step) => heard.push(step),
      (pause) => pauses.push(pause),
    );
    let detailsAsked = 0;
    const details = () => {
      detailsAsked++;
      return { applied: 900, messages: 4 };
    };
    // A short Ready: its details are never built.
    steps.started();
    thread.pass(10);
    steps.observe('ready', 10, details);
    // A 100 ms apply, 80 ms of it GC: not told.
    steps.started();
    const applyStartMs = thread.nowMs();
    thread.pass(100);
    steps.observe('apply', 100, details);
    // A 70 ms Ready with no GC in it: told, with its details.
    steps.started();
    const readyStartMs = thread.nowMs();
    thread.pass(70);
    steps.observe('ready', 70, details);
    steps.observePast('gc-major', applyStartMs + 10, 80);
    // A short scavenge after the Ready: not told.
    steps.observePast('gc-minor', readyStartMs + 75, 3);
    thread.pass(GC_REPORT_DELAY_MS);
    steps.settle();
    expect(detailsAsked).toBe(2);
    expect(heard).toEqual([
      {
        source: 'ready',
        startMs: readyStartMs,
        outsideGcMs: 70,
        ownMs: 70,
        wallMs: 70,
        // On a CPU throughout (the scripted thread's default).
        mainThreadCpuMs: 70,
        details: { applied: 900, messages: 4 },
      },
    ]);
    // The readings around the major GC (at the apply's start and end) span the whole apply, on a
    // CPU throughout: 100 ms, at least the pause's own CPU.
    expect(pauses).toEqual([
      { source: 'gc-major', startMs: applyStartMs + 10, wallMs: 80, ownMs: 80, mainThreadCpuMs: 100 },
    ]);
  });
});
