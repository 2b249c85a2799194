import { assert } from './errors.js';

/**
 * Deterministic randomness. The same seed gives the same sequence on every machine (only
 * 32-bit integer arithmetic is used); `fork(label)` derives an independent stream from the
 * seed and the label without consuming the parent's sequence, so adding a fork elsewhere
 * never shifts the numbers an existing stream produces.
 */
export interface Random {
  /** A uniformly distributed integer in [0, 2^32). */
  nextUint32(): number;
  /** A uniformly distributed float in [0, 1). */
  nextFloat(): number;
  /** A uniformly distributed integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number;
  /** A uniformly distributed integer in [minInclusive, maxInclusive]. */
  nextIntBetween(minInclusive: number, maxInclusive: number): number;
  /** True with the given probability. */
  chance(probability: number): boolean;
  bytes(count: number): Uint8Array;
  fork(label: string): Random;
}

function splitMix32(state: number): [value: number, nextState: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [z >>> 0, next];
}

function hashLabel(seed: number, label: string): number {
  // FNV-1a over the label's UTF-16 units, mixed with the parent seed.
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let index = 0; index < label.length; index++) {
    hash ^= label.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return splitMix32(hash)[0];
}

/** xoshiro128** seeded through splitmix32: fast, 2^128 - 1 period, well distributed. */
export class SeededRandom implements Random {
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    assert(Number.isInteger(seed), () => `Random seed must be an integer, got ${seed}`);
    this.seed = seed >>> 0;
    let state = this.seed;
    let value: number;
    [value, state] = splitMix32(state);
    this.s0 = value;
    [value, state] = splitMix32(state);
    this.s1 = value;
    [value, state] = splitMix32(state);
    this.s2 = value;
    [value, state] = splitMix32(state);
    this.s3 = value;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const shifted = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= shifted;
    this.s3 = rotateLeft(this.s3, 11);
    return result;
  }

  nextFloat(): number {
    // 53 bits of precision from two draws.
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  nextInt(maxExclusive: number): number {
    assert(
      Number.isInteger(maxExclusive) && maxExclusive > 0 && maxExclusive <= 2 ** 32,
      () => `nextInt bound must be an integer in [1, 2^32], got ${maxExclusive}`,
    );
    // Rejection sampling keeps the result unbiased.
    const limit = 2 ** 32 - (2 ** 32 % maxExclusive);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % maxExclusive;
    }
  }

  nextIntBetween(minInclusive: number, maxInclusive: number): number {
    assert(maxInclusive >= minInclusive, () => `empty range [${minInclusive}, ${maxInclusive}]`);
    return minInclusive + this.nextInt(maxInclusive - minInclusive + 1);
  }

  chance(probability: number): boolean {
    if (probability <= 0) return false;
    if (probability >= 1) return true;
    return this.nextFloat() < probability;
  }

  bytes(count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let index = 0; index < count; index += 4) {
      let word = this.nextUint32();
      for (let offset = 0; offset < 4 && index + offset < count; offset++) {
        out[index + offset] = word & 0xff;
        word >>>= 8;
      }
    }
    return out;
  }

  fork(label: string): SeededRandom {
    return new SeededRandom(hashLabel(this.seed, label));
  }
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

/** Production randomness: seeded from the OS once, then deterministic from that seed. */
export function systemRandom(): SeededRandom {
  const seed = crypto.getRandomValues(new Uint32Array(1))[0] ?? 1;
  return new SeededRandom(seed);
}
