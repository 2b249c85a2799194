import { assert } from '../lib/index.js';

/**
 * A ring of append messages sent to one follower and not yet acknowledged, bounded by a count
 * and by bytes. Each slot holds the last index the message carried and its size; slots are
 * added in increasing index order and freed from the front.
 */
export class Inflights {
  private readonly indexes: Float64Array;
  private readonly sizes: Float64Array;
  private start = 0;
  private used = 0;
  private bytesUsed = 0;

  constructor(
    readonly capacityMessages: number,
    readonly capacityBytes: number,
  ) {
    assert(capacityMessages > 0 && capacityBytes > 0, 'inflight capacities must be positive');
    this.indexes = new Float64Array(capacityMessages);
    this.sizes = new Float64Array(capacityMessages);
  }

  get count(): number {
    return this.used;
  }

  get bytes(): number {
    return this.bytesUsed;
  }

  /** Full by count, or by bytes once the window holds at least one message. */
  full(): boolean {
    return this.used === this.capacityMessages || this.bytesUsed >= this.capacityBytes;
  }

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'added to a full inflight window');
    const slot = (this.start + this.used) % this.capacityMessages;
    this.indexes[slot] = lastIndex;
    this.sizes[slot] = bytes;
    this.used++;
    this.bytesUsed += bytes;
  }

  /** Frees every message whose last index is at or below `index`. */
  freeThrough(index: number): void {
    while (this.used > 0 && this.indexes[this.start]! <= index) {
      this.bytesUsed -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.capacityMessages;
      this.used--;
    }
    if (this.used === 0) {
      this.start = 0;
      this.bytesUsed = 0;
    }
  }

  /** Frees the oldest message, so a window whose messages were lost can send again. */
  freeFirst(): void {
    if (this.used === 0) return;
    this.freeThrough(this.indexes[this.start]!);
  }

  reset(): void {
    this.start = 0;
    this.used = 0;
    this.bytesUsed = 0;
  }
}
