import { Buffer } from 'node:buffer';
import * as zlib from 'node:zlib';

export { binaryToBytes, bytesToBinary, writeBinary } from '../lib/index.js';

/** A copy of `bytes` (small ones carved from Node's buffer pool, not one allocation each). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = Buffer.from(bytes);
  return new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength);
}

export function compareBytes(left: Uint8Array, right: Uint8Array): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const difference = (left[index] as number) - (right[index] as number);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

export function compareBinary(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The range end that selects every key starting with `prefix`; "\0" (all keys) if none exists. */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  for (let index = prefix.length - 1; index >= 0; index--) {
    if ((prefix[index] as number) < 0xff) {
      const end = prefix.slice(0, index + 1);
      end[index] = (end[index] as number) + 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let index = 0; index < 256; index++) {
    let value = index;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    table[index] = value >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (IEEE polynomial) of `bytes`, byte at a time: the reference for `crc32`. `previous` is
 * the CRC of the bytes before these, to checksum data given in pieces.
 */
export function crc32Portable(bytes: Uint8Array, previous = 0): number {
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (let index = 0; index < bytes.length; index++) {
    crc = (CRC32_TABLE[(crc ^ (bytes[index] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * CRC-32 (IEEE polynomial) of `bytes`. zlib's native one (Node >= 20.15) checks a snapshot
 * several times faster than the portable loop (about 225 MB/s here), which matters because
 * a snapshot is checked in steps on the event loop.
 */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, previous: number) => number }).crc32;
export const crc32: (bytes: Uint8Array, previous?: number) => number =
  nativeCrc32 === undefined ? crc32Portable : (bytes, previous = 0) => nativeCrc32(bytes, previous) >>> 0;
