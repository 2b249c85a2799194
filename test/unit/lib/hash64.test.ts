import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Hash64Result, hash64, hash64Into, hash64PrefixedInto } from '../../../src/lib/index.js';

const MASK_64 = (1n << 64n) - 1n;
const PRIME = [
  0x9e3779b185ebca87n,
  0xc2b2ae3d27d4eb4fn,
  0x165667b19e3779f9n,
  0x85ebca77c2b2ae63n,
  0x27d4eb2f165667c5n,
] as const;
const [P1, P2, P3, P4, P5] = PRIME;

/** Straight BigInt transcription of the XXH64 specification, as an independent oracle. */
function referenceXxHash64(bytes: Uint8Array, seed: bigint): bigint {
  const rotl = (value: bigint, bits: bigint) => ((value << bits) | (value >> (64n - bits))) & MASK_64;
  const read = (offset: number, width: number) => {
    let value = 0n;
    for (let index = width - 1; index >= 0; index--) value = (value << 8n) | BigInt(bytes[offset + index]!);
    return value;
  };
  const round = (acc: bigint, input: bigint) => (rotl((acc + input * P2) & MASK_64, 31n) * P1) & MASK_64;
  const merge = (acc: bigint, value: bigint) => ((acc ^ round(0n, value)) * P1 + P4) & MASK_64;
  let offset = 0;
  let hash: bigint;
  if (bytes.length >= 32) {
    let v1 = (seed + P1 + P2) & MASK_64;
    let v2 = (seed + P2) & MASK_64;
    let v3 = seed;
    let v4 = (seed - P1) & MASK_64;
    for (; offset + 32 <= bytes.length; offset += 32) {
      v1 = round(v1, read(offset, 8));
      v2 = round(v2, read(offset + 8, 8));
      v3 = round(v3, read(offset + 16, 8));
      v4 = round(v4, read(offset + 24, 8));
    }
    hash = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK_64;
    for (const value of [v1, v2, v3, v4]) hash = merge(hash, value);
  } else {
    hash = (seed + P5) & MASK_64;
  }
  hash = (hash + BigInt(bytes.length)) & MASK_64;
  for (; offset + 8 <= bytes.length; offset += 8) {
    hash ^= round(0n, read(offset, 8));
    hash = (rotl(hash, 27n) * P1 + P4) & MASK_64;
  }
  if (offset + 4 <= bytes.length) {
    hash ^= (read(offset, 4) * P1) & MASK_64;
    hash = (rotl(hash, 23n) * P2 + P3) & MASK_64;
    offset += 4;
  }
  for (; offset < bytes.length; offset++) {
    hash ^= (BigInt(bytes[offset]!) * P5) & MASK_64;
    hash = (rotl(hash, 11n) * P1) & MASK_64;
  }
  hash ^= hash >> 33n;
  hash = (hash * P2) & MASK_64;
  hash ^= hash >> 29n;
  hash = (hash * P3) & MASK_64;
  hash ^= hash >> 32n;
  return hash;
}

describe('xxHash64 in 32-bit arithmetic', () => {
  it('matches the published values for the empty input and "abc"', () => {
    expect(hash64(new Uint8Array(0))).toBe(0xef46db3751d8e999n);
    expect(hash64(new TextEncoder().encode('abc'))).toBe(0x44bc2cf5ad770999n);
  });

  it('matches the BigInt transcription of the algorithm for any input and seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.bigInt({ min: 0n, max: MASK_64 }), (bytes, seed) => {
        expect(hash64(bytes, seed)).toBe(referenceXxHash64(bytes, seed));
      }),
      { numRuns: 300 },
    );
  });

  it('hashes a sub-range of a buffer like a copy of that range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = a % bytes.length;
        const length = b % (bytes.length - start + 1);
        const out = new Hash64Result();
        hash64Into(bytes, start, length, 0, 0, out);
        expect(out.toBigInt()).toBe(hash64(bytes.slice(start, start + length)));
      }),
      { numRuns: 100 },
    );
  });

  it('computes the same value on the unrolled short path as over the concatenated bytes', () => {
    const uint32 = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(
        fc.tuple(uint32, uint32, uint32, uint32, uint32, uint32),
        fc.uint8Array({ maxLength: 20 }),
        ([seedHigh, seedLow, w0High, w0Low, w1High, w1Low], tail) => {
          const out = new Hash64Result();
          const handled = hash64PrefixedInto(seedHigh, seedLow, w0High, w0Low, w1High, w1Low, tail, out);
          expect(handled).toBe(16 + tail.length < 32);
          if (!handled) return;
          const bytes = new Uint8Array(16 + tail.length);
          const view = new DataView(bytes.buffer);
          view.setUint32(0, w0Low, true);
          view.setUint32(4, w0High, true);
          view.setUint32(8, w1Low, true);
          view.setUint32(12, w1High, true);
          bytes.set(tail, 16);
          const seed = (BigInt(seedHigh) << 32n) | BigInt(seedLow);
          expect(out.toBigInt()).toBe(referenceXxHash64(bytes, seed));
        },
      ),
      { numRuns: 400 },
    );
  });
});
