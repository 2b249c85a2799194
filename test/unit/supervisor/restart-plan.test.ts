import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/lib/index.js';
import {
  admitRestart,
  backoffDelayMs,
  type ChildSpec,
  compileOrThrow,
  type RestartPolicy,
  restartSet,
  type Strategy,
  shouldRestart,
} from '../../../src/supervisor/index.js';

const noop = async (): Promise<void> => {};

function tree(strategy: Strategy, restartDependents: boolean) {
  // Start order: a, b, c, d, e; c depends on a, e depends on c.
  const children: ChildSpec[] = [
    { name: 'a', start: noop },
    { name: 'b', start: noop },
    { name: 'c', start: noop, dependsOn: ['a'] },
    { name: 'd', start: noop },
    { name: 'e', start: noop, dependsOn: ['c'] },
  ];
  return compileOrThrow({ name: 'root', strategy, restartDependents, children });
}

const POLICY: RestartPolicy = {
  type: 'permanent',
  maxRestarts: 2,
  periodMs: 1_000,
  backoff: { initialMs: 100, maxMs: 1_000, multiplier: 2, jitterRatio: 0 },
  onExhausted: 'critical',
};

describe('shouldRestart', () => {
  it('follows the OTP restart types', () => {
    expect(shouldRestart({ ...POLICY, type: 'permanent' }, 'normal')).toBe(true);
    expect(shouldRestart({ ...POLICY, type: 'permanent' }, 'crash')).toBe(true);
    expect(shouldRestart({ ...POLICY, type: 'transient' }, 'normal')).toBe(false);
    expect(shouldRestart({ ...POLICY, type: 'transient' }, 'crash')).toBe(true);
    expect(shouldRestart({ ...POLICY, type: 'temporary' }, 'normal')).toBe(false);
    expect(shouldRestart({ ...POLICY, type: 'temporary' }, 'crash')).toBe(false);
  });
});

describe('restartSet', () => {
  it.each([
    ['one-for-one', false, 'b', ['b']],
    ['one-for-one', true, 'a', ['a', 'c', 'e']],
    ['one-for-one', false, 'a', ['a']],
    ['rest-for-one', false, 'b', ['b', 'c', 'd', 'e']],
    ['rest-for-one', true, 'd', ['d', 'e']],
    ['one-for-all', false, 'd', ['a', 'b', 'c', 'd', 'e']],
  ] as const)('%s (dependents %s) after %s crashes: %j', (strategy, dependents, failed, expected) => {
    expect(restartSet(tree(strategy, dependents), failed)).toEqual(expected);
  });
});

describe('admitRestart', () => {
  it('admits maxRestarts restarts inside the period, then refuses, and admits again once old ones age out', () => {
    let times: readonly number[] = [];
    const first = admitRestart(POLICY, times, 0);
    times = first.restartTimesMs;
    const second = admitRestart(POLICY, times, 400);
    times = second.restartTimesMs;
    const third = admitRestart(POLICY, times, 900);
    expect([first.admitted, second.admitted, third.admitted]).toEqual([true, true, false]);
    expect([first.attempt, second.attempt]).toEqual([1, 2]);
    const later = admitRestart(POLICY, third.restartTimesMs, 1_000);
    expect(later).toEqual({ admitted: true, restartTimesMs: [400, 1_000], attempt: 2 });
  });

  it('refuses every restart when the budget is zero', () => {
    expect(admitRestart({ ...POLICY, maxRestarts: 0 }, [], 0).admitted).toBe(false);
  });
});

describe('backoffDelayMs', () => {
  it('grows exponentially and stops at the maximum', () => {
    const random = new SeededRandom(1);
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(POLICY.backoff, attempt, random));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('jitters within the ratio either way, deterministically for a seed', () => {
    const backoff = { ...POLICY.backoff, jitterRatio: 0.25 };
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 200 }, () => backoffDelayMs(backoff, 2, random));
    };
    const delays = draw(9);
    expect(delays).toEqual(draw(9));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(150);
    expect(Math.max(...delays)).toBeLessThanOrEqual(250);
    expect(new Set(delays).size).toBeGreaterThan(10);
  });

  it('is zero when the initial delay is zero', () => {
    expect(
      backoffDelayMs({ ...POLICY.backoff, initialMs: 0, jitterRatio: 0.5 }, 3, new SeededRandom(1)),
    ).toBe(0);
  });
});
