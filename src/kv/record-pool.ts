/**
 * Memory for the stored records' numbers, off the V8 heap's object graph. A store keeps one record
 * per change for many keys; an array per key was two heap objects per key (the array and its
 * backing store) for every full garbage collection to mark. Here a key's records are one extent
 * of `RECORD_SLOTS` float slots per record inside a shared chunk (a Float64Array: its bytes are
 * not traced), so a key's records cost no object at all.
 *
 * A buddy allocator: extents come in size classes of 2^c records, aligned to their size inside a
 * chunk of one extent of the largest shared class. A class with none free splits the smallest
 * larger free extent in halves; a freed extent merges with its free buddy, class by class, and a
 * chunk wholly free again is kept as a spare (up to `MAX_SPARE_CHUNKS`) or dropped: dropping and
 * making chunks again as keys grow and shrink would count towards V8's external memory and so
 * schedule needless full collections. Free extents are kept in a doubly linked list per class,
 * linked through their own first slots (nothing else is stored there while they are free). An
 * extent larger than a chunk gets a chunk of its own, dropped when freed.
 */
import { assert } from '../lib/index.js';

/** Float slots per record (see key-table.ts for their order). */
export const RECORD_SLOTS = 7;

/** The largest class cut from shared chunks; a shared chunk is one extent of it. */
export const MAX_SHARED_CLASS = 12;
const CHUNK_RECORDS = 2 ** MAX_SHARED_CLASS;
/** Largest class at all: a key with more records than 2^26 cannot be stored. */
export const MAX_RECORD_CLASS = 26;
/** Wholly free chunks kept for reuse (about 3.6 MiB). */
export const MAX_SPARE_CHUNKS = 16;
/** An extent, packed: `chunk * EXTENT_CHUNK_SPAN + its first record in the chunk`. */
const EXTENT_CHUNK_SPAN = 2 ** 16;
/** No extent (an empty list's head, a list end). */
const NONE = -1;
/** The slots of a free extent's first record that link it into its class's list. */
const PREVIOUS_SLOT = 0;
const NEXT_SLOT = 1;
/** A record's entry in `freeClasses` that starts no free extent. */
const NOT_FREE = -1;

/** The smallest class whose extent holds `records`. */
export function classFor(records: number): number {
  let recordClass = 0;
  while (2 ** recordClass < records) recordClass++;
  assert(recordClass <= MAX_RECORD_CLASS, () => `record pool: ${records} records for one key`);
  return recordClass;
}

export class RecordPool {
  /** Chunks by number; a number whose chunk was dropped is undefined until reused. */
  readonly chunks: (Float64Array | undefined)[] = [];
  /** Per shared chunk and record: the class of the free extent starting there, or `NOT_FREE`. */
  private readonly freeClasses: (Int8Array | undefined)[] = [];
  private readonly freeChunkNumbers: number[] = [];
  /** First free extent per class (`NONE`: none). */
  private readonly heads: number[] = new Array<number>(MAX_SHARED_CLASS + 1).fill(NONE);
  /** Bytes of the chunks held. */
  chunkBytes = 0;
  /** Bytes of the free extents in them. */
  freeBytes = 0;
  private spareChunks = 0;

  /** An extent of class `recordClass`, packed; `chunkOf` and `firstSlotOf` unpack it. */
  allocate(recordClass: number): number {
    assert(recordClass >= 0 && recordClass <= MAX_RECORD_CLASS, 'record pool: bad class');
    if (recordClass > MAX_SHARED_CLASS) return this.newChunk(2 ** recordClass) * EXTENT_CHUNK_SPAN;
    let found = recordClass;
    while (found <= MAX_SHARED_CLASS && this.heads[found] === NONE) found++;
    let extent: number;
    if (found > MAX_SHARED_CLASS) {
      const chunk = this.newChunk(CHUNK_RECORDS);
      this.freeClasses[chunk] = new Int8Array(CHUNK_RECORDS).fill(NOT_FREE);
      extent = chunk * EXTENT_CHUNK_SPAN;
      found = MAX_SHARED_CLASS;
    } else {
      extent = this.heads[found] as number;
      this.unlink(extent, found);
    }
    // Keep the lower half, free the upper, down to the class asked for.
    while (found > recordClass) {
      found--;
      this.link(extent + 2 ** found, found);
    }
    return extent;
  }

  /** Gives back an extent `allocate(recordClass)` returned; its slots may be written at once. */
  free(extent: number, recordClass: number): void {
    const chunk = chunkOf(extent);
    if (recordClass > MAX_SHARED_CLASS) {
      this.dropChunk(chunk);
      return;
    }
    const freeClasses = this.freeClasses[chunk] as Int8Array;
    let first = extent % EXTENT_CHUNK_SPAN;
    let merged = recordClass;
    while (merged < MAX_SHARED_CLASS) {
      const buddy = first ^ (2 ** merged);
      if (freeClasses[buddy] !== merged) break;
      this.unlink(chunk * EXTENT_CHUNK_SPAN + buddy, merged);
      first = Math.min(first, buddy);
      merged++;
    }
    if (merged === MAX_SHARED_CLASS && this.spareChunks >= MAX_SPARE_CHUNKS) {
      this.freeClasses[chunk] = undefined;
      this.dropChunk(chunk);
    } else this.link(chunk * EXTENT_CHUNK_SPAN + first, merged);
  }

  /** Puts a free extent at the head of its class's list. */
  private link(extent: number, recordClass: number): void {
    const chunk = this.chunks[chunkOf(extent)] as Float64Array;
    const slot = firstSlotOf(extent);
    const next = this.heads[recordClass] as number;
    chunk[slot + PREVIOUS_SLOT] = NONE;
    chunk[slot + NEXT_SLOT] = next;
    if (next !== NONE)
      (this.chunks[chunkOf(next)] as Float64Array)[firstSlotOf(next) + PREVIOUS_SLOT] = extent;
    this.heads[recordClass] = extent;
    (this.freeClasses[chunkOf(extent)] as Int8Array)[extent % EXTENT_CHUNK_SPAN] = recordClass;
    this.freeBytes += 2 ** recordClass * RECORD_SLOTS * Float64Array.BYTES_PER_ELEMENT;
    if (recordClass === MAX_SHARED_CLASS) this.spareChunks++;
  }

  /** Takes a free extent out of its class's list. */
  private unlink(extent: number, recordClass: number): void {
    const chunk = this.chunks[chunkOf(extent)] as Float64Array;
    const slot = firstSlotOf(extent);
    const previous = chunk[slot + PREVIOUS_SLOT] as number;
    const next = chunk[slot + NEXT_SLOT] as number;
    if (previous === NONE) this.heads[recordClass] = next;
    else (this.chunks[chunkOf(previous)] as Float64Array)[firstSlotOf(previous) + NEXT_SLOT] = next;
    if (next !== NONE)
      (this.chunks[chunkOf(next)] as Float64Array)[firstSlotOf(next) + PREVIOUS_SLOT] = previous;
    (this.freeClasses[chunkOf(extent)] as Int8Array)[extent % EXTENT_CHUNK_SPAN] = NOT_FREE;
    this.freeBytes -= 2 ** recordClass * RECORD_SLOTS * Float64Array.BYTES_PER_ELEMENT;
    if (recordClass === MAX_SHARED_CLASS) this.spareChunks--;
  }

  private newChunk(records: number): number {
    const chunk = new Float64Array(records * RECORD_SLOTS);
    this.chunkBytes += chunk.byteLength;
    const number = this.freeChunkNumbers.pop();
    if (number !== undefined) {
      this.chunks[number] = chunk;
      return number;
    }
    this.chunks.push(chunk);
    return this.chunks.length - 1;
  }

  private dropChunk(chunk: number): void {
    this.chunkBytes -= (this.chunks[chunk] as Float64Array).byteLength;
    this.chunks[chunk] = undefined;
    this.freeChunkNumbers.push(chunk);
  }
}

/** The chunk number of a packed extent. */
export function chunkOf(extent: number): number {
  return Math.floor(extent / EXTENT_CHUNK_SPAN);
}

/** The first slot of a packed extent inside its chunk. */
export function firstSlotOf(extent: number): number {
  return (extent % EXTENT_CHUNK_SPAN) * RECORD_SLOTS;
}

/** The packed extent whose first slot is `firstSlot` of chunk `chunk`. */
export function extentAt(chunk: number, firstSlot: number): number {
  return chunk * EXTENT_CHUNK_SPAN + firstSlot / RECORD_SLOTS;
}
