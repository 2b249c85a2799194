/** Keys and values as bytes; strings are UTF-8. */
import type { Bytes } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const EMPTY_BYTES = new Uint8Array(0);

/** "\0" as a range end: every key at or after the start key. */
export const ALL_KEYS_RANGE_END = new Uint8Array([0]);

export function toBytes(value: Bytes): Uint8Array {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

/** Bytes as text (UTF-8, with replacement characters for invalid sequences). */
export function bytesToText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * The smallest key greater than every key starting with `prefix`: the prefix with its last byte
 * that is not 0xff incremented and everything after it dropped. A prefix of only 0xff bytes (or
 * the empty prefix) has no such key; the answer is "\0", meaning "to the end of the key space".
 */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  for (let index = prefix.length - 1; index >= 0; index--) {
    const byte = prefix[index] ?? 0xff;
    if (byte < 0xff) {
      const end = prefix.slice(0, index + 1);
      end[index] = byte + 1;
      return end;
    }
  }
  return ALL_KEYS_RANGE_END;
}

/** The range end to send for a key with `prefix` / `rangeEnd` options (empty for a single key). */
export function rangeEndFor(key: Uint8Array, options: { prefix?: boolean; rangeEnd?: Bytes }): Uint8Array {
  if (options.prefix === true) return key.length === 0 ? ALL_KEYS_RANGE_END : prefixRangeEnd(key);
  if (options.rangeEnd !== undefined) return toBytes(options.rangeEnd);
  return EMPTY_BYTES;
}
