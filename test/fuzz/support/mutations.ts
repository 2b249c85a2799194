/**
 * Byte-level mutations for fuzzing decoders: a valid encoding (made by the real encoder from
 * fast-check values) damaged the ways bytes from a peer or a disk get damaged (bit flips,
 * truncation, extension, insertions, deletions, length fields set huge), plus pure random bytes.
 * Mutations are plain data, so fast-check shrinks a failing input to a small list of them.
 */
import fc from 'fast-check';

export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'extend'; readonly bytes: Uint8Array }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'remove'; readonly at: number; readonly length: number }
  /** A 32-bit word (either byte order) or a long varint written over the bytes at `at`. */
  | { readonly kind: 'huge'; readonly at: number; readonly word: Uint8Array };

/** Values a length field may be set to by an attacker or by corruption. */
const HUGE_WORDS: readonly Uint8Array[] = [
  Uint8Array.of(0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x7f, 0xff, 0xff, 0xff),
  Uint8Array.of(0x80, 0x00, 0x00, 0x00),
  Uint8Array.of(0x00, 0x00, 0x00, 0x80),
  Uint8Array.of(0x00, 0x00, 0x10, 0x00),
  Uint8Array.of(0x00, 0x10, 0x00, 0x00),
  // Varints: 2^53-1 in 8 bytes, and one that never ends.
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x10),
];

const position = fc.nat();

export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat(7) }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('set' as const), at: position, value: fc.nat(255) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: position }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ maxLength: 16 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: position,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('remove' as const),
      at: position,
      length: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('huge' as const),
      at: position,
      word: fc.constantFrom(...HUGE_WORDS),
    }),
  },
);

function applyMutation(bytes: Uint8Array, mutation: Mutation): Uint8Array {
  const at = bytes.length === 0 || !('at' in mutation) ? 0 : mutation.at % bytes.length;
  switch (mutation.kind) {
    case 'flip': {
      if (bytes.length === 0) return bytes;
      const copy = bytes.slice();
      copy[at] = copy[at]! ^ (1 << mutation.bit);
      return copy;
    }
    case 'set': {
      if (bytes.length === 0) return bytes;
      const copy = bytes.slice();
      copy[at] = mutation.value;
      return copy;
    }
    case 'truncate':
      return bytes.slice(0, at);
    case 'extend':
      return join([bytes, mutation.bytes]);
    case 'insert':
      return join([bytes.subarray(0, at), mutation.bytes, bytes.subarray(at)]);
    case 'remove':
      return join([bytes.subarray(0, at), bytes.subarray(at + mutation.length)]);
    case 'huge': {
      const copy = bytes.slice();
      copy.set(mutation.word.subarray(0, Math.max(0, copy.length - at)), at);
      return copy;
    }
  }
}

export function join(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/** One to four mutations. */
export const mutationsArbitrary = fc.array(mutationArbitrary, { minLength: 1, maxLength: 4 });

export function applyMutations(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  return mutations.reduce(applyMutation, bytes);
}

/** `valid` damaged by one to four mutations. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, mutationsArbitrary).map(([bytes, mutations]) => applyMutations(bytes, mutations));
}

/** Random bytes up to `maxLength`. */
export function randomBytes(maxLength = 256): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength });
}

/**
 * The usual input mix for a decoder: mostly mutated valid encodings (they get past magic numbers
 * and checksums into the decoder's depths), some untouched valid ones and some pure noise.
 */
export function decoderInputs(
  valid: fc.Arbitrary<Uint8Array>,
  maxRandomBytes = 256,
): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: mutated(valid) },
    { weight: 1, arbitrary: valid },
    { weight: 2, arbitrary: randomBytes(maxRandomBytes) },
  );
}

/** Splits `bytes` into chunks at the given points (a socket's or a file reader's cuts). */
export function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => (bytes.length === 0 ? 0 : cut % (bytes.length + 1))))].sort(
    (a, b) => a - b,
  );
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    if (point > start) chunks.push(bytes.subarray(start, point));
    start = Math.max(start, point);
  }
  return chunks;
}
