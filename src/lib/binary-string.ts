/**
 * Keys and values are bytes. Inside the store they are kept as one-byte-per-character strings
 * ("binary strings"): they compare in byte order with `<`, hash quickly as Map keys, are immutable
 * and take far less memory than one Uint8Array each.
 */

const CHUNK_CHARACTERS = 8192;
/** Below this length a plain loop beats making a native buffer view. */
const NATIVE_MIN_BYTES = 48;

/** Node's Buffer converts latin1 natively; the fallbacks keep this module runnable elsewhere. */
const NativeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;

export function bytesToBinary(bytes: Uint8Array): string {
  if (NativeBuffer !== undefined && bytes.length >= NATIVE_MIN_BYTES) {
    return NativeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
  if (bytes.length <= CHUNK_CHARACTERS) {
    // One call gives a flat string; appending per character would build a rope for the index to flatten.
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  let text = '';
  for (let start = 0; start < bytes.length; start += CHUNK_CHARACTERS) {
    text += String.fromCharCode.apply(
      null,
      bytes.subarray(start, start + CHUNK_CHARACTERS) as unknown as number[],
    );
  }
  return text;
}

export function binaryToBytes(text: string): Uint8Array {
  if (NativeBuffer !== undefined && text.length >= NATIVE_MIN_BYTES) {
    const buffer = NativeBuffer.from(text, 'latin1');
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) bytes[index] = text.charCodeAt(index);
  return bytes;
}

/** Writes a binary string into `target` at `offset` (the caller has checked the room). */
export function writeBinary(target: Uint8Array, offset: number, text: string): void {
  if (NativeBuffer !== undefined && text.length >= NATIVE_MIN_BYTES) {
    NativeBuffer.from(target.buffer, target.byteOffset, target.byteLength).write(text, offset, 'latin1');
    return;
  }
  for (let index = 0; index < text.length; index++) target[offset + index] = text.charCodeAt(index);
}
