import type { Random } from '../lib/index.js';

const TWO_TO_THE_32 = 4_294_967_296;

/**
 * An integer in [0, maxExclusive) from one 32-bit draw, for the simulator's hottest paths
 * (every message's delay). Multiply-shift instead of rejection sampling: the bias is below
 * 2^-20 for the small ranges used here, and it skips the checks of `Random.nextInt`.
 */
export function drawBelow(random: Random, maxExclusive: number): number {
  return Math.floor((random.nextUint32() / TWO_TO_THE_32) * maxExclusive);
}

/** An integer in [minInclusive, maxInclusive], see `drawBelow`. */
export function drawBetween(random: Random, minInclusive: number, maxInclusive: number): number {
  return minInclusive + drawBelow(random, maxInclusive - minInclusive + 1);
}
