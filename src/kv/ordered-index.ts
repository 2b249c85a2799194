import { assert } from '../lib/index.js';

/**
 * Items kept in key order in a list of sorted blocks. A block splits when it reaches
 * `MAX_BLOCK_ITEMS`, so an insert moves at most one block's items plus the block list, and finding
 * a position is two binary searches. Point lookups go through a hash map beside the blocks: string
 * comparisons are not free, and gets and puts are the common case. Keys are binary strings, which
 * compare in byte order. Items are anything whose key `keyOf` gives: the store's are small integer
 * ids (see key-table.ts), which cost the blocks and the map no object each.
 */
export const MAX_BLOCK_ITEMS = 512;

export interface Keyed {
  readonly key: string;
}

const keyField = (item: unknown): string => (item as Keyed).key;

export class OrderedIndex<T> {
  private blocks: T[][] = [];
  private readonly byKey = new Map<string, T>();

  constructor(private readonly keyOf: (item: T) => string = keyField) {}

  get size(): number {
    return this.byKey.size;
  }

  /** Index of the first block whose last key is >= key, or blocks.length. */
  private blockFor(key: string): number {
    let low = 0;
    let high = this.blocks.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const block = this.blocks[middle] as T[];
      if (this.keyOf(block[block.length - 1] as T) < key) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private lowerBound(block: readonly T[], key: string): number {
    let low = 0;
    let high = block.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.keyOf(block[middle] as T) < key) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  get(key: string): T | undefined {
    return this.byKey.get(key);
  }

  /** Inserts an item whose key is not present. */
  insert(item: T): void {
    const key = this.keyOf(item);
    assert(!this.byKey.has(key), 'ordered index: duplicate insert');
    this.byKey.set(key, item);
    if (this.blocks.length === 0) {
      this.blocks.push([item]);
      return;
    }
    let blockIndex = this.blockFor(key);
    if (blockIndex === this.blocks.length) blockIndex--;
    const block = this.blocks[blockIndex] as T[];
    const position = this.lowerBound(block, key);
    if (position === block.length) block.push(item);
    else block.splice(position, 0, item);
    if (block.length >= MAX_BLOCK_ITEMS) {
      const upper = block.splice(block.length >>> 1);
      this.blocks.splice(blockIndex + 1, 0, upper);
    }
  }

  remove(key: string): boolean {
    if (!this.byKey.delete(key)) return false;
    const blockIndex = this.blockFor(key);
    const block = this.blocks[blockIndex];
    assert(block !== undefined, 'ordered index: key in the map but not in a block');
    const position = this.lowerBound(block, key);
    assert(
      position < block.length && this.keyOf(block[position] as T) === key,
      'ordered index: key in the map but not in its block',
    );
    block.splice(position, 1);
    if (block.length === 0) this.blocks.splice(blockIndex, 1);
    return true;
  }

  /**
   * Visits items with start <= key < end in key order (`end` null: no upper bound) until the
   * visitor returns false.
   */
  scan(start: string, end: string | null, visit: (item: T) => boolean | undefined): void {
    let blockIndex = this.blockFor(start);
    let position =
      blockIndex < this.blocks.length ? this.lowerBound(this.blocks[blockIndex] as T[], start) : 0;
    for (; blockIndex < this.blocks.length; blockIndex++, position = 0) {
      const block = this.blocks[blockIndex] as T[];
      for (; position < block.length; position++) {
        const item = block[position] as T;
        if (end !== null && this.keyOf(item) >= end) return;
        if (visit(item) === false) return;
      }
    }
  }

  forEach(visit: (item: T) => void): void {
    for (const block of this.blocks) for (const item of block) visit(item);
  }

  *values(): IterableIterator<T> {
    for (const block of this.blocks) yield* block;
  }

  /**
   * Adds an item whose key is greater than every key present (a snapshot being decoded builds its
   * index this way, a step at a time). Blocks fill to half size, leaving room for inserts.
   */
  appendLast(item: T): void {
    const key = this.keyOf(item);
    const last = this.blocks[this.blocks.length - 1];
    assert(
      last === undefined || this.keyOf(last[last.length - 1] as T) < key,
      'ordered index: appended key is not the greatest',
    );
    this.byKey.set(key, item);
    if (last === undefined || last.length >= MAX_BLOCK_ITEMS >>> 1) this.blocks.push([item]);
    else last.push(item);
  }
}
