import { assert } from '../lib/index.js';
import { ENTRY_OVERHEAD_BYTES } from './constants.js';
import type { Entry, EntryKind } from './types.js';

/**
 * Entries appended together whose data is at most this large share one buffer. A small buffer of
 * its own costs about 360 bytes of memory besides its contents (V8's ArrayBuffer object and backing
 * store record, the allocator's overhead), more than a typical command; a log of 100,000 entries
 * holds that many. Larger entries keep their own buffer.
 */
export const MAX_SHARED_ENTRY_DATA_BYTES = 4096;

const NO_DATA = new Uint8Array(0);

/**
 * A run of log entries kept as columns: term, kind, and where the data lies (a buffer shared by
 * the small entries appended together, an offset and a length), one array slot each, instead of
 * an entry object and a byte view per entry. A log holds up to about 105,000 entries between
 * snapshots; as objects they were some 210,000 long-lived heap objects that every full garbage
 * collection marked (about 20 ms of CPU per collection at that size, against 5 ms as columns).
 * Entries are made on reading; they are short-lived.
 */
export class EntryColumns {
  private terms: number[] = [];
  private kinds: EntryKind[] = [];
  private buffers: Uint8Array[] = [];
  private starts: number[] = [];
  private lengths: number[] = [];

  get length(): number {
    return this.terms.length;
  }

  term(position: number): number {
    return this.terms[position] as number;
  }

  /** The bytes the entry at `position` counts for in append limits (`entrySizeBytes`). */
  sizeBytes(position: number): number {
    return (this.lengths[position] as number) + ENTRY_OVERHEAD_BYTES;
  }

  /** The entry at `position`, whose index is `index`. */
  entry(position: number, index: number): Entry {
    const buffer = this.buffers[position] as Uint8Array;
    const start = this.starts[position] as number;
    const length = this.lengths[position] as number;
    const data =
      start === 0 && length === buffer.byteLength ? buffer : buffer.subarray(start, start + length);
    return { term: this.terms[position] as number, index, kind: this.kinds[position] as EntryKind, data };
  }

  /** Appends `entries`, copying the data of the small ones into one buffer they share. */
  push(entries: readonly Entry[]): void {
    let sharedBytes = 0;
    for (const entry of entries) {
      const length = entry.data.byteLength;
      if (length > 0 && length <= MAX_SHARED_ENTRY_DATA_BYTES) sharedBytes += length;
    }
    // Appends of only empty or large entries (no-ops, config changes, big values) need none.
    const shared = sharedBytes === 0 ? NO_DATA : new Uint8Array(sharedBytes);
    let offset = 0;
    for (const entry of entries) {
      const length = entry.data.byteLength;
      this.terms.push(entry.term);
      this.kinds.push(entry.kind);
      this.lengths.push(length);
      if (length === 0 || length > MAX_SHARED_ENTRY_DATA_BYTES) {
        this.buffers.push(length === 0 ? NO_DATA : entry.data);
        this.starts.push(0);
        continue;
      }
      shared.set(entry.data, offset);
      this.buffers.push(shared);
      this.starts.push(offset);
      offset += length;
    }
  }

  /** Keeps the first `length` entries. */
  truncate(length: number): void {
    assert(length >= 0 && length <= this.length, () => `truncate to ${length} of ${this.length} entries`);
    this.terms.length = length;
    this.kinds.length = length;
    this.buffers.length = length;
    this.starts.length = length;
    this.lengths.length = length;
  }

  /** Drops the first `count` entries. */
  dropFront(count: number): void {
    assert(count >= 0 && count <= this.length, () => `drop ${count} of ${this.length} entries`);
    this.terms = this.terms.slice(count);
    this.kinds = this.kinds.slice(count);
    this.buffers = this.buffers.slice(count);
    this.starts = this.starts.slice(count);
    this.lengths = this.lengths.slice(count);
  }
}
