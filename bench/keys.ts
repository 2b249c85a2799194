/** A 16-byte key for `index`, spread over the key space, made on demand so no key list is held. */
export function scatteredKey(index: number): Uint8Array {
  const key = new Uint8Array(16);
  let state = (index + 1) * 0x9e3779b1;
  for (let position = 0; position < 16; position += 4) {
    state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d);
    state = Math.imul(state ^ (state >>> 12), 0x297a2d39) ^ (state >>> 15);
    key[position] = state >>> 24;
    key[position + 1] = state >>> 16;
    key[position + 2] = state >>> 8;
    key[position + 3] = state;
  }
  // The index itself in the tail keeps keys distinct whatever the mixing does.
  key[12] = index >>> 24;
  key[13] = index >>> 16;
  key[14] = index >>> 8;
  key[15] = index;
  return key;
}
