import { assert, outgoingBytes } from '../lib/index.js';

const TWO_TO_32 = 2 ** 32;

/** Writes a non-negative safe integer as 8 little-endian bytes. */
export function writeUint64(view: DataView, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, `not a non-negative safe integer: ${value}`);
  view.setUint32(offset, value % TWO_TO_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_TO_32), true);
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
  const joined = outgoingBytes(totalBytes);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}
