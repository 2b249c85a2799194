import { assert } from '../lib/index.js';
import { ENTRY_OVERHEAD_BYTES } from './constants.js';
import { ENTRY_DATA_SLAB_BYTES, EntryDataSlabs } from './entry-data-slabs.js';
import type { Entry, EntryKind } from './types.js';

/**
 * Entries whose data is at most this large have it copied into the log's shared slabs. A small
 * buffer of its own costs about 360 bytes of memory besides its contents (V8's ArrayBuffer object
 * and backing store record, the allocator's overhead), more than a typical command; a log of
 * 100,000 entries holds that many. Larger entries keep their own buffer.
 */
export const MAX_SHARED_ENTRY_DATA_BYTES = 4096;

const NO_DATA = new Uint8Array(0);
const KINDS: readonly EntryKind[] = ['normal', 'config', 'noop'];
const KIND_CODES: Readonly<Record<EntryKind, number>> = { normal: 0, config: 1, noop: 2 };
// Small, so that tests of a few dozen entries exercise growing and moving down too.
const INITIAL_CAPACITY = 8;

/**
 * A run of log entries kept as columns in typed arrays (term, kind, and where the data lies: a
 * slab number, an offset and a length), instead of an entry object and a byte view per entry.
 * A log holds up to about 105,000 entries between snapshots. As objects they were some 210,000
 * long-lived heap objects that every full garbage collection marked; as JS arrays of slots, five
 * arrays of that length (4.6 MB) that every full collection scanned and that were copied on the
 * V8 heap as they grew. Typed arrays keep it all off the heap: the collector sees a handful of
 * objects. Entries are made on reading; they are short-lived.
 *
 * The live entries are the positions [head, head + count) of the arrays, so dropping a prefix is
 * moving `head`; the arrays are moved down or grown when an append reaches their end.
 */
export class EntryColumns {
  private capacity = INITIAL_CAPACITY;
  private head = 0;
  private count = 0;
  private terms = new Float64Array(INITIAL_CAPACITY);
  private kinds = new Uint8Array(INITIAL_CAPACITY);
  private slabNumbers = new Float64Array(INITIAL_CAPACITY);
  private starts = new Int32Array(INITIAL_CAPACITY);
  private lengths = new Int32Array(INITIAL_CAPACITY);
  private readonly data: EntryDataSlabs;

  /** `slabBytes`: the size of the slabs small data is copied into (smaller in tests). */
  constructor(slabBytes = ENTRY_DATA_SLAB_BYTES) {
    this.data = new EntryDataSlabs(slabBytes);
  }

  get length(): number {
    return this.count;
  }

  term(position: number): number {
    return this.terms[this.head + position] as number;
  }

  /** The bytes the entry at `position` counts for in append limits (`entrySizeBytes`). */
  sizeBytes(position: number): number {
    return (this.lengths[this.head + position] as number) + ENTRY_OVERHEAD_BYTES;
  }

  /** The entry at `position`, whose index is `index`; its data is a view of the log's bytes. */
  entry(position: number, index: number): Entry {
    const at = this.head + position;
    const length = this.lengths[at] as number;
    const data =
      length === 0
        ? NO_DATA
        : this.data.view(this.slabNumbers[at] as number, this.starts[at] as number, length);
    return {
      term: this.terms[at] as number,
      index,
      kind: KINDS[this.kinds[at] as number] as EntryKind,
      data,
    };
  }

  /** How many data slabs the log keeps (for tests: slabs no entry lies in are let go). */
  get slabCount(): number {
    return this.data.slabCount;
  }

  /** Appends `entries`, copying the data of the small ones into the shared slabs. */
  push(entries: readonly Entry[]): void {
    this.reserve(entries.length);
    let at = this.head + this.count;
    for (const entry of entries) {
      const length = entry.data.byteLength;
      this.terms[at] = entry.term;
      this.kinds[at] = KIND_CODES[entry.kind];
      this.slabNumbers[at] = this.data.store(entry.data, length <= MAX_SHARED_ENTRY_DATA_BYTES);
      this.starts[at] = this.data.lastStart;
      this.lengths[at] = length;
      at++;
    }
    this.count += entries.length;
  }

  /** Keeps the first `length` entries. */
  truncate(length: number): void {
    assert(length >= 0 && length <= this.count, () => `truncate to ${length} of ${this.count} entries`);
    this.count = length;
    if (length > 0) {
      this.data.releaseAfter(this.slabNumbers[this.head + length - 1] as number);
    } else {
      this.head = 0;
      this.data.releaseAll();
    }
  }

  /** Drops the first `count` entries. */
  dropFront(count: number): void {
    assert(count >= 0 && count <= this.count, () => `drop ${count} of ${this.count} entries`);
    this.head += count;
    this.count -= count;
    if (this.count === 0) {
      this.head = 0;
      this.data.releaseAll();
    } else {
      this.data.releaseBefore(this.slabNumbers[this.head] as number);
    }
  }

  /** Makes room for `extra` more entries after the live ones. */
  private reserve(extra: number): void {
    const needed = this.count + extra;
    if (this.head + needed <= this.capacity) return;
    if (needed <= this.capacity / 2) {
      // Dropped entries left at least half the room at the front: move the live ones down.
      this.moveDown();
      return;
    }
    let capacity = this.capacity * 2;
    while (capacity < needed) capacity *= 2;
    const from = this.head;
    const to = this.head + this.count;
    this.terms = grown(this.terms, new Float64Array(capacity), from, to);
    this.kinds = grown(this.kinds, new Uint8Array(capacity), from, to);
    this.slabNumbers = grown(this.slabNumbers, new Float64Array(capacity), from, to);
    this.starts = grown(this.starts, new Int32Array(capacity), from, to);
    this.lengths = grown(this.lengths, new Int32Array(capacity), from, to);
    this.capacity = capacity;
    this.head = 0;
  }

  private moveDown(): void {
    const from = this.head;
    const to = this.head + this.count;
    this.terms.copyWithin(0, from, to);
    this.kinds.copyWithin(0, from, to);
    this.slabNumbers.copyWithin(0, from, to);
    this.starts.copyWithin(0, from, to);
    this.lengths.copyWithin(0, from, to);
    this.head = 0;
  }
}

type Column = Float64Array | Int32Array | Uint8Array;

/** `into` holding `column`'s positions [from, to) at its start. */
function grown<C extends Column>(column: C, into: C, from: number, to: number): C {
  into.set(column.subarray(from, to));
  return into;
}
