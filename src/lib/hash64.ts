/**
 * xxHash64 computed with 32-bit integer arithmetic only: every 64-bit value is a pair of
 * unsigned 32-bit halves, so hashing allocates nothing and never touches BigInt. The hot
 * path (`hash64Into`) leaves its result in `Hash64Result` fields instead of returning an
 * object. Matches the published XXH64 algorithm bit for bit.
 */

// The five XXH64 primes, split into high and low 32-bit halves.
const PRIME1_HIGH = 0x9e3779b1;
const PRIME1_LOW = 0x85ebca87;
const PRIME2_HIGH = 0xc2b2ae3d;
const PRIME2_LOW = 0x27d4eb4f;
const PRIME3_HIGH = 0x165667b1;
const PRIME3_LOW = 0x9e3779f9;
const PRIME4_HIGH = 0x85ebca77;
const PRIME4_LOW = 0xc2b2ae63;
const PRIME5_HIGH = 0x27d4eb2f;
const PRIME5_LOW = 0x165667c5;

const STRIPE_BYTES = 32;

/** Where the hot-path functions leave a 64-bit result. */
export class Hash64Result {
  high = 0;
  low = 0;

  toBigInt(): bigint {
    return (BigInt(this.high) << 32n) | BigInt(this.low);
  }
}

// Result registers of the arithmetic helpers below. A typed array stores unboxed 32-bit
// values; plain module-level numbers above 2^30 would be boxed on every write.
const registers = new Uint32Array(2);

/** (aHigh:aLow) * (bHigh:bLow) mod 2^64 into registers[0]!:registers[1]!. */
function multiply(aHigh: number, aLow: number, bHigh: number, bLow: number): void {
  // 32x32 -> 64 from four 16x16 partial products; Math.imul keeps every step in int32.
  const a0 = aLow & 0xffff;
  const a1 = aLow >>> 16;
  const b0 = bLow & 0xffff;
  const b1 = bLow >>> 16;
  const p00 = Math.imul(a0, b0);
  const p01 = Math.imul(a0, b1);
  const p10 = Math.imul(a1, b0);
  const p11 = Math.imul(a1, b1);
  const middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  // Uint32Array stores reduce modulo 2^32, which is exactly the wrap-around wanted here.
  registers[1] = (middle << 16) | (p00 & 0xffff);
  registers[0] =
    (p11 >>> 0) +
    (p01 >>> 16) +
    (p10 >>> 16) +
    (middle >>> 16) +
    Math.imul(aHigh, bLow) +
    Math.imul(aLow, bHigh);
}

/** (aHigh:aLow) + (bHigh:bLow) mod 2^64 into registers[0]!:registers[1]!. */
function add(aHigh: number, aLow: number, bHigh: number, bLow: number): void {
  const low = aLow + bLow;
  registers[1] = low >>> 0;
  registers[0] = (aHigh + bHigh + (low > 0xffffffff ? 1 : 0)) >>> 0;
}

/** Rotate left by `bits` (1..63) into registers[0]!:registers[1]!. */
function rotateLeft(high: number, low: number, bits: number): void {
  if (bits === 32) {
    registers[0] = low;
    registers[1] = high;
    return;
  }
  if (bits > 32) {
    const swap = high;
    high = low;
    low = swap;
    bits -= 32;
  }
  registers[0] = ((high << bits) | (low >>> (32 - bits))) >>> 0;
  registers[1] = ((low << bits) | (high >>> (32 - bits))) >>> 0;
}

/** One accumulator round: rotl(acc + input * PRIME2, 31) * PRIME1. */
function round(accHigh: number, accLow: number, inputHigh: number, inputLow: number): void {
  multiply(inputHigh, inputLow, PRIME2_HIGH, PRIME2_LOW);
  add(accHigh, accLow, registers[0]!, registers[1]!);
  rotateLeft(registers[0]!, registers[1]!, 31);
  multiply(registers[0]!, registers[1]!, PRIME1_HIGH, PRIME1_LOW);
}

/** (acc ^ round(0, value)) * PRIME1 + PRIME4. */
function mergeRound(accHigh: number, accLow: number, valueHigh: number, valueLow: number): void {
  round(0, 0, valueHigh, valueLow);
  multiply((accHigh ^ registers[0]!) >>> 0, (accLow ^ registers[1]!) >>> 0, PRIME1_HIGH, PRIME1_LOW);
  add(registers[0]!, registers[1]!, PRIME4_HIGH, PRIME4_LOW);
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>>
    0
  );
}

/**
 * Hashes `bytes[start, start + length)` with the 64-bit seed `seedHigh:seedLow` and stores
 * the result in `out`. Allocation-free.
 */
export function hash64Into(
  bytes: Uint8Array,
  start: number,
  length: number,
  seedHigh: number,
  seedLow: number,
  out: Hash64Result,
): void {
  const end = start + length;
  let offset = start;
  let hashHigh: number;
  let hashLow: number;
  if (length >= STRIPE_BYTES) {
    add(seedHigh, seedLow, PRIME1_HIGH, PRIME1_LOW);
    add(registers[0]!, registers[1]!, PRIME2_HIGH, PRIME2_LOW);
    let v1High = registers[0]!;
    let v1Low = registers[1]!;
    add(seedHigh, seedLow, PRIME2_HIGH, PRIME2_LOW);
    let v2High = registers[0]!;
    let v2Low = registers[1]!;
    let v3High = seedHigh >>> 0;
    let v3Low = seedLow >>> 0;
    // seed - PRIME1 is seed + (2^64 - PRIME1).
    add(seedHigh, seedLow, 0x61c8864e, 0x7a143579);
    let v4High = registers[0]!;
    let v4Low = registers[1]!;
    const limit = end - STRIPE_BYTES;
    while (offset <= limit) {
      round(v1High, v1Low, readUint32(bytes, offset + 4), readUint32(bytes, offset));
      v1High = registers[0]!;
      v1Low = registers[1]!;
      round(v2High, v2Low, readUint32(bytes, offset + 12), readUint32(bytes, offset + 8));
      v2High = registers[0]!;
      v2Low = registers[1]!;
      round(v3High, v3Low, readUint32(bytes, offset + 20), readUint32(bytes, offset + 16));
      v3High = registers[0]!;
      v3Low = registers[1]!;
      round(v4High, v4Low, readUint32(bytes, offset + 28), readUint32(bytes, offset + 24));
      v4High = registers[0]!;
      v4Low = registers[1]!;
      offset += STRIPE_BYTES;
    }
    rotateLeft(v1High, v1Low, 1);
    let sumHigh = registers[0]!;
    let sumLow = registers[1]!;
    rotateLeft(v2High, v2Low, 7);
    add(sumHigh, sumLow, registers[0]!, registers[1]!);
    sumHigh = registers[0]!;
    sumLow = registers[1]!;
    rotateLeft(v3High, v3Low, 12);
    add(sumHigh, sumLow, registers[0]!, registers[1]!);
    sumHigh = registers[0]!;
    sumLow = registers[1]!;
    rotateLeft(v4High, v4Low, 18);
    add(sumHigh, sumLow, registers[0]!, registers[1]!);
    mergeRound(registers[0]!, registers[1]!, v1High, v1Low);
    mergeRound(registers[0]!, registers[1]!, v2High, v2Low);
    mergeRound(registers[0]!, registers[1]!, v3High, v3Low);
    mergeRound(registers[0]!, registers[1]!, v4High, v4Low);
    hashHigh = registers[0]!;
    hashLow = registers[1]!;
  } else {
    add(seedHigh, seedLow, PRIME5_HIGH, PRIME5_LOW);
    hashHigh = registers[0]!;
    hashLow = registers[1]!;
  }
  // Lengths are far below 2^32, so the length's high half is zero.
  add(hashHigh, hashLow, 0, length >>> 0);
  hashHigh = registers[0]!;
  hashLow = registers[1]!;
  while (offset + 8 <= end) {
    round(0, 0, readUint32(bytes, offset + 4), readUint32(bytes, offset));
    rotateLeft((hashHigh ^ registers[0]!) >>> 0, (hashLow ^ registers[1]!) >>> 0, 27);
    multiply(registers[0]!, registers[1]!, PRIME1_HIGH, PRIME1_LOW);
    add(registers[0]!, registers[1]!, PRIME4_HIGH, PRIME4_LOW);
    hashHigh = registers[0]!;
    hashLow = registers[1]!;
    offset += 8;
  }
  if (offset + 4 <= end) {
    multiply(0, readUint32(bytes, offset), PRIME1_HIGH, PRIME1_LOW);
    rotateLeft((hashHigh ^ registers[0]!) >>> 0, (hashLow ^ registers[1]!) >>> 0, 23);
    multiply(registers[0]!, registers[1]!, PRIME2_HIGH, PRIME2_LOW);
    add(registers[0]!, registers[1]!, PRIME3_HIGH, PRIME3_LOW);
    hashHigh = registers[0]!;
    hashLow = registers[1]!;
    offset += 4;
  }
  while (offset < end) {
    multiply(0, bytes[offset]!, PRIME5_HIGH, PRIME5_LOW);
    rotateLeft((hashHigh ^ registers[0]!) >>> 0, (hashLow ^ registers[1]!) >>> 0, 11);
    multiply(registers[0]!, registers[1]!, PRIME1_HIGH, PRIME1_LOW);
    hashHigh = registers[0]!;
    hashLow = registers[1]!;
    offset += 1;
  }
  // Avalanche.
  hashLow = (hashLow ^ ((hashHigh >>> 1) | 0)) >>> 0;
  multiply(hashHigh, hashLow, PRIME2_HIGH, PRIME2_LOW);
  hashHigh = registers[0]!;
  hashLow = registers[1]!;
  const shiftedLow = ((hashLow >>> 29) | (hashHigh << 3)) >>> 0;
  hashLow = (hashLow ^ shiftedLow) >>> 0;
  hashHigh = (hashHigh ^ (hashHigh >>> 29)) >>> 0;
  multiply(hashHigh, hashLow, PRIME3_HIGH, PRIME3_LOW);
  out.high = registers[0]!;
  out.low = (registers[1]! ^ registers[0]!) >>> 0;
}

const scratchResult = new Hash64Result();

/** Convenience form returning a bigint; not for hot paths. */
export function hash64(bytes: Uint8Array, seed = 0n): bigint {
  const seedHigh = Number((seed >> 32n) & 0xffffffffn);
  const seedLow = Number(seed & 0xffffffffn);
  hash64Into(bytes, 0, bytes.length, seedHigh, seedLow, scratchResult);
  return scratchResult.toBigInt();
}

/** Inputs shorter than one stripe take the short path of `hash64PrefixedInto`. */
const SHORT_INPUT_LIMIT_BYTES = STRIPE_BYTES;

/**
 * xxHash64 of `word0 (8 bytes LE) || word1 (8 bytes LE) || tail`, for inputs shorter than one
 * 32-byte stripe, with every 64-bit step spelled out over local variables: no calls, no
 * memory traffic, no allocation. The words are given as 32-bit halves. Returns false (and
 * computes nothing) when the input is too long; the caller then uses `hash64Into`.
 */
export function hash64PrefixedInto(
  seedHigh: number,
  seedLow: number,
  word0High: number,
  word0Low: number,
  word1High: number,
  word1Low: number,
  tail: Uint8Array,
  out: Hash64Result,
): boolean {
  const length = 16 + tail.length;
  if (length >= SHORT_INPUT_LIMIT_BYTES) return false;
  let a0 = 0;
  let a1 = 0;
  let p00 = 0;
  let p01 = 0;
  let p10 = 0;
  let p11 = 0;
  let middle = 0;
  let t = 0;
  let u = 0;
  let kh = 0;
  let kl = 0;
  let hashHigh = 0;
  let hashLow = 0;
  t = seedLow + 0x165667c5;
  hashHigh = (seedHigh + 0x27d4eb2f + (t > 0xffffffff ? 1 : 0)) >>> 0;
  hashLow = t >>> 0;
  t = hashLow + length;
  hashHigh = (hashHigh + 0 + (t > 0xffffffff ? 1 : 0)) >>> 0;
  hashLow = t >>> 0;
  const words = 2 + (tail.length >>> 3);
  let offset = 0;
  for (let word = 0; word < words; word++) {
    if (word === 0) {
      kh = word0High;
      kl = word0Low;
    } else if (word === 1) {
      kh = word1High;
      kl = word1Low;
    } else {
      kl = readUint32(tail, offset);
      kh = readUint32(tail, offset + 4);
      offset += 8;
    }
    a0 = kl & 0xffff;
    a1 = kl >>> 16;
    p00 = Math.imul(a0, 0xeb4f);
    p01 = Math.imul(a0, 0x27d4);
    p10 = Math.imul(a1, 0xeb4f);
    p11 = Math.imul(a1, 0x27d4);
    middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    kh =
      ((p11 >>> 0) +
        (p01 >>> 16) +
        (p10 >>> 16) +
        (middle >>> 16) +
        Math.imul(kh, 0x27d4eb4f) +
        Math.imul(kl, 0xc2b2ae3d)) >>>
      0;
    kl = ((middle << 16) | (p00 & 0xffff)) >>> 0;
    u = ((kh << 31) | (kl >>> 1)) >>> 0;
    kl = ((kl << 31) | (kh >>> 1)) >>> 0;
    kh = u;
    a0 = kl & 0xffff;
    a1 = kl >>> 16;
    p00 = Math.imul(a0, 0xca87);
    p01 = Math.imul(a0, 0x85eb);
    p10 = Math.imul(a1, 0xca87);
    p11 = Math.imul(a1, 0x85eb);
    middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    kh =
      ((p11 >>> 0) +
        (p01 >>> 16) +
        (p10 >>> 16) +
        (middle >>> 16) +
        Math.imul(kh, 0x85ebca87) +
        Math.imul(kl, 0x9e3779b1)) >>>
      0;
    kl = ((middle << 16) | (p00 & 0xffff)) >>> 0;
    hashHigh = (hashHigh ^ kh) >>> 0;
    hashLow = (hashLow ^ kl) >>> 0;
    u = ((hashHigh << 27) | (hashLow >>> 5)) >>> 0;
    hashLow = ((hashLow << 27) | (hashHigh >>> 5)) >>> 0;
    hashHigh = u;
    a0 = hashLow & 0xffff;
    a1 = hashLow >>> 16;
    p00 = Math.imul(a0, 0xca87);
    p01 = Math.imul(a0, 0x85eb);
    p10 = Math.imul(a1, 0xca87);
    p11 = Math.imul(a1, 0x85eb);
    middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    hashHigh =
      ((p11 >>> 0) +
        (p01 >>> 16) +
        (p10 >>> 16) +
        (middle >>> 16) +
        Math.imul(hashHigh, 0x85ebca87) +
        Math.imul(hashLow, 0x9e3779b1)) >>>
      0;
    hashLow = ((middle << 16) | (p00 & 0xffff)) >>> 0;
    t = hashLow + 0xc2b2ae63;
    hashHigh = (hashHigh + 0x85ebca77 + (t > 0xffffffff ? 1 : 0)) >>> 0;
    hashLow = t >>> 0;
  }
  if (offset + 4 <= tail.length) {
    kl = readUint32(tail, offset);
    a0 = kl & 0xffff;
    a1 = kl >>> 16;
    p00 = Math.imul(a0, 0xca87);
    p01 = Math.imul(a0, 0x85eb);
    p10 = Math.imul(a1, 0xca87);
    p11 = Math.imul(a1, 0x85eb);
    middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    kh =
      ((p11 >>> 0) +
        (p01 >>> 16) +
        (p10 >>> 16) +
        (middle >>> 16) +
        Math.imul(0, 0x85ebca87) +
        Math.imul(kl, 0x9e3779b1)) >>>
      0;
    kl = ((middle << 16) | (p00 & 0xffff)) >>> 0;
    hashHigh = (hashHigh ^ kh) >>> 0;
    hashLow = (hashLow ^ kl) >>> 0;
    u = ((hashHigh << 23) | (hashLow >>> 9)) >>> 0;
    hashLow = ((hashLow << 23) | (hashHigh >>> 9)) >>> 0;
    hashHigh = u;
    a0 = hashLow & 0xffff;
    a1 = hashLow >>> 16;
    p00 = Math.imul(a0, 0xeb4f);
    p01 = Math.imul(a0, 0x27d4);
    p10 = Math.imul(a1, 0xeb4f);
    p11 = Math.imul(a1, 0x27d4);
    middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    hashHigh =
      ((p11 >>> 0) +
        (p01 >>> 16) +
        (p10 >>> 16) +
        (middle >>> 16) +
        Math.imul(hashHigh, 0x27d4eb4f) +
        Math.imul(hashLow, 0xc2b2ae3d)) >>>
      0;
    hashLow = ((middle << 16) | (p00 & 0xffff)) >>> 0;
    t = hashLow + 0x9e3779f9;
    hashHigh = (hashHigh + 0x165667b1 + (t > 0xffffffff ? 1 : 0)) >>> 0;
    hashLow = t >>> 0;
    offset += 4;
  }
  while (offset < tail.length) {
    kl = tail[offset]!;
    a0 = kl & 0xffff;
    a1 = kl >>> 16;
    p00 = Math.imul(a0, 0x67c5);
    p01 = Math.imul(a0, 0x1656);
    p10 = Math.imul(a1, 0x67c5);
    p11 = Math.imul(a1, 0x1656);
    middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    kh =
      ((p11 >>> 0) +
        (p01 >>> 16) +
        (p10 >>> 16) +
        (middle >>> 16) +
        Math.imul(0, 0x165667c5) +
        Math.imul(kl, 0x27d4eb2f)) >>>
      0;
    kl = ((middle << 16) | (p00 & 0xffff)) >>> 0;
    hashHigh = (hashHigh ^ kh) >>> 0;
    hashLow = (hashLow ^ kl) >>> 0;
    u = ((hashHigh << 11) | (hashLow >>> 21)) >>> 0;
    hashLow = ((hashLow << 11) | (hashHigh >>> 21)) >>> 0;
    hashHigh = u;
    a0 = hashLow & 0xffff;
    a1 = hashLow >>> 16;
    p00 = Math.imul(a0, 0xca87);
    p01 = Math.imul(a0, 0x85eb);
    p10 = Math.imul(a1, 0xca87);
    p11 = Math.imul(a1, 0x85eb);
    middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    hashHigh =
      ((p11 >>> 0) +
        (p01 >>> 16) +
        (p10 >>> 16) +
        (middle >>> 16) +
        Math.imul(hashHigh, 0x85ebca87) +
        Math.imul(hashLow, 0x9e3779b1)) >>>
      0;
    hashLow = ((middle << 16) | (p00 & 0xffff)) >>> 0;
    offset += 1;
  }
  hashLow = (hashLow ^ (hashHigh >>> 1)) >>> 0;
  a0 = hashLow & 0xffff;
  a1 = hashLow >>> 16;
  p00 = Math.imul(a0, 0xeb4f);
  p01 = Math.imul(a0, 0x27d4);
  p10 = Math.imul(a1, 0xeb4f);
  p11 = Math.imul(a1, 0x27d4);
  middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  hashHigh =
    ((p11 >>> 0) +
      (p01 >>> 16) +
      (p10 >>> 16) +
      (middle >>> 16) +
      Math.imul(hashHigh, 0x27d4eb4f) +
      Math.imul(hashLow, 0xc2b2ae3d)) >>>
    0;
  hashLow = ((middle << 16) | (p00 & 0xffff)) >>> 0;
  hashLow = (hashLow ^ ((hashLow >>> 29) | (hashHigh << 3))) >>> 0;
  hashHigh = (hashHigh ^ (hashHigh >>> 29)) >>> 0;
  a0 = hashLow & 0xffff;
  a1 = hashLow >>> 16;
  p00 = Math.imul(a0, 0x79f9);
  p01 = Math.imul(a0, 0x9e37);
  p10 = Math.imul(a1, 0x79f9);
  p11 = Math.imul(a1, 0x9e37);
  middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  hashHigh =
    ((p11 >>> 0) +
      (p01 >>> 16) +
      (p10 >>> 16) +
      (middle >>> 16) +
      Math.imul(hashHigh, 0x9e3779f9) +
      Math.imul(hashLow, 0x165667b1)) >>>
    0;
  hashLow = ((middle << 16) | (p00 & 0xffff)) >>> 0;
  out.high = hashHigh;
  out.low = (hashLow ^ hashHigh) >>> 0;
  return true;
}
