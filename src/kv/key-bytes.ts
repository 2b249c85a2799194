/**
 * The stored keys' bytes, off the V8 heap's object graph. One string per stored key was the
 * largest set of objects a full collection had to mark under saturation (about 220,000 strings,
 * 13.6 MB, plus the map table and arrays pointing at them). Here a key is a run of bytes in a
 * shared chunk (an ArrayBuffer, whose bytes V8 does not trace), found by its address and length;
 * a string is made only when a caller asks for one.
 *
 * Keys are binary strings (one char per byte, see `bytesToBinary`). A key takes a slot of its
 * size class: multiples of 8 bytes up to `MAX_FINE_SLOT_BYTES`, powers of two above, up to
 * `MAX_SHARED_SLOT_BYTES`; a longer key gets a chunk of its own, dropped when it is released. A
 * released slot goes on its class's free list, linked through its own first 8 bytes, and is
 * reused by the next key of its class: no compaction, so no step that walks every key (a class's
 * slots stay with it: space freed by short keys is not reused by long ones).
 */
import { Buffer } from 'node:buffer';
import { assert } from '../lib/index.js';

/** Bytes of one shared chunk; also what an address counts per chunk number. */
export const KEY_CHUNK_BYTES = 1024 * 1024;
/** Slots up to this size come in steps of 8 bytes (most keys are short). */
const MAX_FINE_SLOT_BYTES = 128;
const FINE_CLASSES = MAX_FINE_SLOT_BYTES / 8;
/** Keys longer than this get a chunk of their own, so a full chunk wastes at most this much. */
export const MAX_SHARED_SLOT_BYTES = KEY_CHUNK_BYTES / 8;
const CLASSES = FINE_CLASSES + Math.log2(MAX_SHARED_SLOT_BYTES / MAX_FINE_SLOT_BYTES);
/** A free list's end. */
const NONE = -1;

/** Where a key's bytes are: `chunk * KEY_CHUNK_BYTES + offset`. */
export type KeyAddress = number;

/** The size class of a key of `length` bytes (`CLASSES` and above: a chunk of its own). */
function classOf(length: number): number {
  if (length <= MAX_FINE_SLOT_BYTES) return length <= 8 ? 0 : ((length + 7) >>> 3) - 1;
  return FINE_CLASSES - 1 + Math.ceil(Math.log2(length / MAX_FINE_SLOT_BYTES));
}

function slotBytesOf(keyClass: number): number {
  return keyClass < FINE_CLASSES
    ? (keyClass + 1) * 8
    : MAX_FINE_SLOT_BYTES * 2 ** (keyClass - FINE_CLASSES + 1);
}

export class KeyBytes {
  /** Chunks by number (a Buffer: latin1 reads and writes); undefined while a number is free. */
  private readonly chunks: (Buffer | undefined)[] = [];
  /** The same chunks as floats, for the free lists' links (slots are 8-byte aligned). */
  private readonly links: (Float64Array | undefined)[] = [];
  private readonly freeChunkNumbers: number[] = [];
  /** First free slot per class. */
  private readonly heads = new Float64Array(CLASSES).fill(NONE);
  /** The chunk new slots are cut from (-1: none yet) and how much of it is used. */
  private current = -1;
  private currentUsed = 0;
  /** Bytes of the chunks held. */
  chunkBytes = 0;
  /** Bytes of the keys stored. */
  liveBytes = 0;

  /** Copies `key` (a binary string) in; its address, for the other calls with the same length. */
  store(key: string): KeyAddress {
    const length = key.length;
    const keyClass = classOf(length);
    let address: KeyAddress;
    if (keyClass >= CLASSES) address = this.newChunk(length) * KEY_CHUNK_BYTES;
    else if (this.heads[keyClass] !== NONE) {
      address = this.heads[keyClass] as number;
      this.heads[keyClass] = this.linkAt(address);
    } else address = this.cut(slotBytesOf(keyClass));
    const chunk = this.chunkAt(address);
    const offset = address % KEY_CHUNK_BYTES;
    for (let index = 0; index < length; index++) {
      const code = key.charCodeAt(index);
      assert(code <= 0xff, 'key bytes: a key must be a binary string');
      chunk[offset + index] = code;
    }
    this.liveBytes += length;
    return address;
  }

  /** The key stored at `address` as a (new) binary string. */
  read(address: KeyAddress, length: number): string {
    const offset = address % KEY_CHUNK_BYTES;
    return this.chunkAt(address).toString('latin1', offset, offset + length);
  }

  /**
   * Negative, zero or positive as the stored key sorts before, equal to or after `key` (byte order,
   * as binary strings compare).
   */
  compare(address: KeyAddress, length: number, key: string): number {
    const chunk = this.chunkAt(address);
    const offset = address % KEY_CHUNK_BYTES;
    const common = Math.min(length, key.length);
    for (let index = 0; index < common; index++) {
      const difference = (chunk[offset + index] as number) - key.charCodeAt(index);
      if (difference !== 0) return difference;
    }
    return length - key.length;
  }

  equals(address: KeyAddress, length: number, key: string): boolean {
    return length === key.length && this.compare(address, length, key) === 0;
  }

  /** The key at `address` is no longer stored: its slot is free for the next key of its class. */
  release(address: KeyAddress, length: number): void {
    const keyClass = classOf(length);
    this.liveBytes -= length;
    if (keyClass >= CLASSES) {
      this.dropChunk(Math.floor(address / KEY_CHUNK_BYTES));
      return;
    }
    this.setLinkAt(address, this.heads[keyClass] as number);
    this.heads[keyClass] = address;
  }

  private chunkAt(address: KeyAddress): Buffer {
    const chunk = this.chunks[Math.floor(address / KEY_CHUNK_BYTES)];
    assert(chunk !== undefined, () => `key bytes: no chunk for address ${address}`);
    return chunk;
  }

  private linkAt(address: KeyAddress): number {
    const links = this.links[Math.floor(address / KEY_CHUNK_BYTES)] as Float64Array;
    return links[(address % KEY_CHUNK_BYTES) / 8] as number;
  }

  private setLinkAt(address: KeyAddress, next: number): void {
    const links = this.links[Math.floor(address / KEY_CHUNK_BYTES)] as Float64Array;
    links[(address % KEY_CHUNK_BYTES) / 8] = next;
  }

  /** A new slot of `slotBytes` from the current chunk (a fresh one when it has no room). */
  private cut(slotBytes: number): KeyAddress {
    if (this.current < 0 || this.currentUsed + slotBytes > KEY_CHUNK_BYTES) {
      // The old chunk's tail (less than the largest shared slot) stays unused.
      this.current = this.newChunk(KEY_CHUNK_BYTES);
      this.currentUsed = 0;
    }
    const address = this.current * KEY_CHUNK_BYTES + this.currentUsed;
    this.currentUsed += slotBytes;
    return address;
  }

  private newChunk(bytes: number): number {
    const number = this.freeChunkNumbers.pop() ?? this.chunks.length;
    // Rounded to 8 bytes so that the float view covers it; zeroed, like every new ArrayBuffer.
    const chunk = Buffer.alloc(Math.ceil(bytes / 8) * 8);
    this.chunks[number] = chunk;
    this.links[number] = new Float64Array(chunk.buffer, chunk.byteOffset, chunk.byteLength / 8);
    this.chunkBytes += chunk.byteLength;
    return number;
  }

  private dropChunk(number: number): void {
    this.chunkBytes -= (this.chunks[number] as Buffer).byteLength;
    this.chunks[number] = undefined;
    this.links[number] = undefined;
    this.freeChunkNumbers.push(number);
  }
}
