import { assert } from '../lib/index.js';

/** Size of the slabs that small entries' data is copied into. */
export const ENTRY_DATA_SLAB_BYTES = 256 * 1024;

/**
 * The bytes of the Raft log's entries, in numbered slabs: small data is copied into a large
 * shared slab (one ArrayBuffer for thousands of entries instead of one per appended batch, so a
 * full garbage collection has a few hundred objects to mark, and none to sweep per batch), and a
 * large one is kept as given, as a slab of its own.
 *
 * Bytes once written are never overwritten: the log hands out views of them, which stay valid
 * however the log is truncated or compacted later. Truncated space is simply not reused; a slab
 * is let go once no entry lies in it, and the garbage collector frees it when no view is left.
 *
 * Slab numbers grow with the position of what is stored in them (the open slab takes a new number
 * when a large entry was stored after it), so the entries of a log prefix lie in the slabs
 * numbered up to some number, and compaction lets go of every slab below the first kept entry's.
 */
export class EntryDataSlabs {
  /** The slabs kept, `slabs[i]` numbered `firstNumber + i`. */
  private slabs: Uint8Array[] = [];
  private firstNumber = 0;
  /** The slab small data is copied into, `openUsed` bytes of it written. */
  private open = new Uint8Array(0);
  private openUsed = 0;
  /** The open slab's number, or -1 when its last number was let go or a large slab came after it. */
  private openNumber = -1;
  /** Where in its slab the last stored data starts. */
  lastStart = 0;

  constructor(private readonly slabBytes = ENTRY_DATA_SLAB_BYTES) {}

  /** Number of the most recent slab (below the first when there is none). */
  get lastNumber(): number {
    return this.firstNumber + this.slabs.length - 1;
  }

  /**
   * Stores `data` (copying it when `copy`) and returns its slab's number; it starts at
   * `lastStart` there. Empty data stores nothing and gets the most recent number.
   */
  store(data: Uint8Array, copy: boolean): number {
    const length = data.byteLength;
    if (length === 0) {
      this.lastStart = 0;
      return this.lastNumber;
    }
    if (!copy) {
      this.slabs.push(data);
      this.openNumber = -1;
      this.lastStart = 0;
      return this.lastNumber;
    }
    if (this.openUsed + length > this.open.byteLength) {
      this.open = new Uint8Array(Math.max(this.slabBytes, length));
      this.openUsed = 0;
      this.openNumber = -1;
    }
    if (this.openNumber === -1) {
      this.slabs.push(this.open);
      this.openNumber = this.lastNumber;
    }
    this.open.set(data, this.openUsed);
    this.lastStart = this.openUsed;
    this.openUsed += length;
    return this.openNumber;
  }

  /** The `length` bytes at `start` of slab `number`. */
  view(number: number, start: number, length: number): Uint8Array {
    const slab = this.slabs[number - this.firstNumber];
    assert(slab !== undefined, () => `entry data slab ${number} is not kept`);
    if (start === 0 && length === slab.byteLength) return slab;
    return slab.subarray(start, start + length);
  }

  /**
   * Lets go of the slabs numbered below `number` (no kept entry lies in them), which is at most
   * the last number: the open slab, when numbered, is the last one and stays.
   */
  releaseBefore(number: number): void {
    assert(
      number <= this.lastNumber + 1,
      () => `release before ${number} past the last slab ${this.lastNumber}`,
    );
    const count = number - this.firstNumber;
    if (count <= 0) return;
    this.slabs.splice(0, count);
    this.firstNumber += count;
  }

  /** Lets go of the slabs numbered above `number` (what lay there was truncated). */
  releaseAfter(number: number): void {
    const keep = Math.max(number - this.firstNumber + 1, 0);
    if (keep >= this.slabs.length) return;
    this.slabs.length = keep;
    if (this.openNumber > this.lastNumber) this.openNumber = -1;
  }

  /** Lets go of every slab (no entry is kept). The open slab's unwritten rest stays in use. */
  releaseAll(): void {
    this.firstNumber += this.slabs.length;
    this.slabs = [];
    this.openNumber = -1;
  }

  /** How many slabs are kept (for tests). */
  get slabCount(): number {
    return this.slabs.length;
  }
}
