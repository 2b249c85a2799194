import { describe, expect, it } from 'vitest';
import { SeededRandom, ValidationError } from '../../../src/lib/index.js';
import {
  deriveFaultPlan,
  FAULT_NAMES,
  MAX_TICK_DRIFT_RATIO,
  parseFaultList,
} from '../../../src/sim/fault-plan.js';

describe('fault knobs', () => {
  it('parses a comma list, all and none, and names every unknown knob', () => {
    expect(parseFaultList('drop, crash')).toEqual(['drop', 'crash']);
    expect(parseFaultList('all')).toEqual([...FAULT_NAMES]);
    expect(parseFaultList('none')).toEqual([]);
    try {
      parseFaultList('drop,frobnicate,melt');
      expect.unreachable('should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems).toHaveLength(2);
    }
  });

  it('derives the same plan from the same seed, and zero intensity for disabled knobs', () => {
    const a = deriveFaultPlan(new SeededRandom(7), FAULT_NAMES, 5);
    const b = deriveFaultPlan(new SeededRandom(7), FAULT_NAMES, 5);
    expect(a).toEqual(b);
    expect(a.dropProbability).toBeGreaterThan(0);
    for (const rate of a.tickRateByNode) {
      expect(Math.abs(rate - 1)).toBeLessThanOrEqual(MAX_TICK_DRIFT_RATIO);
    }
    const quiet = deriveFaultPlan(new SeededRandom(7), ['crash'], 3);
    expect(quiet.dropProbability).toBe(0);
    expect(quiet.duplicateProbability).toBe(0);
    expect(quiet.tickRateByNode).toEqual([1, 1, 1]);
  });
});
