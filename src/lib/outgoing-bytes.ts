/**
 * Memory for bytes that are written out (to a socket or a file) and then dropped: peer frames,
 * the write-ahead log's batched records. Below 4 KiB they are slices of Node's own pool (as
 * `scratchBytes`); up to `MAX_CARVED_BYTES` they are carved one after another from slabs of
 * `SLAB_BYTES`, so that a busy node makes one ArrayBuffer per slab rather than one per frame or
 * per log write (each ArrayBuffer is swept and freed one by one by the GC on the main thread).
 * Nothing is ever carved twice from the same bytes: a slab is left to the GC once full, and lives
 * as long as any view of it, so a view stays valid however long a socket write keeps it. The
 * cost of a view kept long (a write stuck behind a slow peer) is its whole slab, which is why
 * only bytes on their way out come from here: nothing stored, nothing queued for long.
 */
import { scratchBytes } from './bytes.js';

/** Node's `Buffer.allocUnsafe` serves sizes below half its 8 KiB pool from that pool. */
const NODE_POOLED_BELOW_BYTES = Buffer.poolSize >>> 1;
export const SLAB_BYTES = 256 * 1024;
/** Larger writes get a buffer of their own: a slab would hold too few of them to matter. */
export const MAX_CARVED_BYTES = 64 * 1024;
/** Views start on 8-byte boundaries, as Node's pool aligns its slices. */
const ALIGNMENT_BYTES = 8;

let slab: Uint8Array | undefined;
let slabUsed = 0;

/** `size` uninitialized bytes for one write, to be filled completely, written and dropped. */
export function outgoingBytes(size: number): Uint8Array {
  if (size < NODE_POOLED_BELOW_BYTES) return scratchBytes(size);
  if (size > MAX_CARVED_BYTES) return Buffer.allocUnsafeSlow(size);
  if (slab === undefined || slabUsed + size > slab.byteLength) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const carved = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += Math.ceil(size / ALIGNMENT_BYTES) * ALIGNMENT_BYTES;
  return carved;
}
