import { describe, expect, it } from 'vitest';
import { LONG_STEP_THRESHOLD_MS, STEP_SOURCES, StepDurations } from '../../../src/lib/index.js';

describe('StepDurations', () => {
  it('keeps the longest step of each source apart from the others', () => {
    const steps = new StepDurations();
    steps.observe('apply', 12);
    steps.observe('apply', 30);
    steps.observe('apply', 7);
    steps.observe('inline-sync', 3);
    expect(steps.longestMs('apply')).toBe(30);
    expect(steps.longestMs('inline-sync')).toBe(3);
    expect(steps.longestMs('gc-major')).toBe(0);
  });

  it(`counts only steps longer than ${LONG_STEP_THRESHOLD_MS} ms as long`, () => {
    const steps = new StepDurations();
    steps.observe('ready', LONG_STEP_THRESHOLD_MS);
    steps.observe('ready', LONG_STEP_THRESHOLD_MS + 1);
    steps.observe('ready', 400);
    steps.observe('gc-minor', 60);
    expect(steps.longCount('ready')).toBe(2);
    expect(steps.longCount('gc-minor')).toBe(1);
    expect(steps.longCount('apply')).toBe(0);
  });

  it('has one slot per source, each starting at zero', () => {
    const steps = new StepDurations();
    expect(new Set(STEP_SOURCES).size).toBe(STEP_SOURCES.length);
    for (const source of STEP_SOURCES)
      expect([steps.longestMs(source), steps.longCount(source)]).toEqual([0, 0]);
  });
});
