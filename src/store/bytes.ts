import { assert, outgoingBytes } from '../lib/index.js';

const TWO_TO_32 = 2 ** 32;

/** Writes a non-negative safe integer as 8 little-endian bytes. */
export function writeUint64(view: DataView, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, `not a non-negative safe integer: ${value}`);
  view.setUint32(offset, value % TWO_TO_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_TO_32), true);
}

/** Writes a u32 as 4 little-endian bytes at `offset` of `target`. */
export function writeUint32At(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value & 0xff;
  target[offset + 1] = (value >>> 8) & 0xff;
  target[offset + 2] = (value >>> 16) & 0xff;
  target[offset + 3] = (value >>> 24) & 0xff;
}

/** Writes a non-negative safe integer as 8 little-endian bytes at `offset` of `target`. */
export function writeUint64At(target: Uint8Array, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, `not a non-negative safe integer: ${value}`);
  writeUint32At(target, offset, value % TWO_TO_32);
  writeUint32At(target, offset + 4, Math.floor(value / TWO_TO_32));
}

/** Reads 8 little-endian bytes; undefined when the value is beyond the safe integer range. */
export function readUint64(view: DataView, offset: number): number | undefined {
  const low = view.getUint32(offset, true);
  const high = view.getUint32(offset + 4, true);
  const value = high * TWO_TO_32 + low;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Joins chunks for one write; the result is outgoing memory (`outgoingBytes`), to be written and dropped. */
export function concatBytes(chunks: readonly Uint8Array[], totalBytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  // Records written one after another into one buffer (a batch of entries) need no copy.
  if (adjacent(chunks)) {
    const first = chunks[0]!;
    return new Uint8Array(first.buffer, first.byteOffset, totalBytes);
  }
  const joined = outgoingBytes(totalBytes);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

/** True when each chunk starts where the one before ends, in the same buffer. */
function adjacent(chunks: readonly Uint8Array[]): boolean {
  const first = chunks[0];
  if (first === undefined) return false;
  let end = first.byteOffset + first.byteLength;
  for (let index = 1; index < chunks.length; index++) {
    const chunk = chunks[index]!;
    if (chunk.buffer !== first.buffer || chunk.byteOffset !== end) return false;
    end += chunk.byteLength;
  }
  return true;
}
