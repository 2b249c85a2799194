import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  CRASH_BACKOFF_MAX_MS,
  CRASH_LOOP_COOLDOWN_MS,
  crashBackoff,
} from '../../../src/reconcile/index.js';

const T = 1_700_000_000_000;

describe('crash-loop backoff', () => {
  it('has no backoff without crashes', () => {
    expect(crashBackoff([])).toBeUndefined();
  });

  it('waits 500 ms after a first crash and doubles for each crash in a row', () => {
    expect(crashBackoff([T])).toEqual({ untilWallMs: T + 500, attempt: 1, cooldown: false });
    expect(crashBackoff([T - 30_000, T])).toEqual({ untilWallMs: T + 1_000, attempt: 2, cooldown: false });
    expect([1, 2, 3, 4, 5, 6, 7].map(backoffDelayMs)).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000,
    ]);
  });

  it('caps the delay at 60 s', () => {
    expect(backoffDelayMs(8)).toBe(CRASH_BACKOFF_MAX_MS);
    expect(backoffDelayMs(50)).toBe(CRASH_BACKOFF_MAX_MS);
    // Eight crashes 20 s apart: never five in a minute, so no cooldown, and the cap applies.
    const spaced = Array.from({ length: 8 }, (_, index) => T - (7 - index) * 20_000);
    expect(crashBackoff(spaced)).toEqual({
      untilWallMs: T + CRASH_BACKOFF_MAX_MS,
      attempt: 8,
      cooldown: false,
    });
  });

  it('puts a daemon crashing 5 times within 60 s in a 5-minute cooldown from its last crash', () => {
    const loop = [T - 59_000, T - 40_000, T - 20_000, T - 1_000, T];
    expect(crashBackoff(loop)).toEqual({
      untilWallMs: T + CRASH_LOOP_COOLDOWN_MS,
      attempt: 5,
      cooldown: true,
    });
    const fourInAMinute = loop.slice(1);
    expect(crashBackoff(fourInAMinute)?.cooldown).toBe(false);
    const fiveOverMoreThanAMinute = [T - 60_000, ...fourInAMinute];
    expect(crashBackoff(fiveOverMoreThanAMinute)?.cooldown).toBe(false);
  });

  it('starts over at 500 ms after ten quiet minutes', () => {
    expect(crashBackoff([T - 700_000, T - 650_000, T])).toEqual({
      untilWallMs: T + 500,
      attempt: 1,
      cooldown: false,
    });
  });
});
