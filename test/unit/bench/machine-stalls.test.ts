import { describe, expect, it } from 'vitest';
import { judgeLongSteps, parseLongStepLine } from '../../../bench/cluster/machine-stalls.js';
import { LONG_PAUSE_MESSAGE, LONG_STEP_MESSAGE } from '../../../src/mesh/mesh-node.js';

describe('parseLongStepLine', () => {
  it('reads a long step as a member logs it, its own time less the GC inside', () => {
    const line = JSON.stringify({
      level: 40,
      source: 'inline-sync',
      startedAt: 1_000,
      outsideGcMs: 70,
      ownMs: 90,
      wallMs: 120,
      applied: 900,
      sendMs: 3.5,
      msg: LONG_STEP_MESSAGE,
    });
    expect(parseLongStepLine(2, line)).toEqual({
      member: 2,
      source: 'inline-sync',
      startedAt: 1_000,
      wallMs: 120,
      ownMs: 70,
      details: { applied: 900, sendMs: 3.5 },
    });
  });

  it('reads a long GC pause by its own time', () => {
    const line = JSON.stringify({
      source: 'gc-minor',
      startedAt: 5,
      ownMs: 60,
      wallMs: 61,
      mainThreadCpuMs: 4,
      msg: LONG_PAUSE_MESSAGE,
    });
    expect(parseLongStepLine(1, line)).toEqual({
      member: 1,
      source: 'gc-minor',
      startedAt: 5,
      wallMs: 61,
      ownMs: 60,
      mainThreadCpuMs: 4,
    });
  });

  it('refuses lines that are not long steps', () => {
    expect(parseLongStepLine(1, 'not json')).toBeUndefined();
    expect(parseLongStepLine(1, JSON.stringify({ msg: 'started' }))).toBeUndefined();
    expect(
      parseLongStepLine(1, JSON.stringify({ source: 'ready', startedAt: 1, wallMs: 60 })),
    ).toBeUndefined();
  });
});

describe('judgeLongSteps', () => {
  const step = { member: 1, source: 'gc-minor', startedAt: 1_000, wallMs: 100, ownMs: 90 };

  it('takes the stall one probe saw inside the step, at most the stall own time', () => {
    const [judged] = judgeLongSteps(
      [step],
      [
        [
          { startedAt: 950, wallMs: 100, ownMs: 80 }, // 50 ms inside the step, capped at... 50
          { startedAt: 1_090, wallMs: 40, ownMs: 5 }, // 10 ms inside, but only 5 of it a stall
        ],
      ],
    );
    expect(judged?.machineMs).toBe(55);
  });

  it('does not add up probes on different CPUs, and never passes the step own time', () => {
    const [judged] = judgeLongSteps(
      [step],
      [[{ startedAt: 1_000, wallMs: 60, ownMs: 60 }], [{ startedAt: 1_000, wallMs: 100, ownMs: 100 }]],
    );
    expect(judged?.machineMs).toBe(90);
  });

  it('gives no machine time to a step no probe saw stalled', () => {
    const [judged] = judgeLongSteps([step], [[{ startedAt: 2_000, wallMs: 80, ownMs: 80 }], []]);
    expect(judged?.machineMs).toBe(0);
  });
});
