import { assert } from '../lib/index.js';
import { KeyIdMap } from './key-id-map.js';

/**
 * Key ids kept in key order in a list of sorted blocks. A block splits when it reaches
 * `MAX_BLOCK_ITEMS`, so an insert moves at most one block's ids plus the block list, and finding
 * a position is two binary searches. Point lookups go through a hash table beside the blocks:
 * key comparisons are not free, and gets and puts are the common case. Blocks are Int32Arrays
 * and the table is typed arrays (key-id-map.ts), so the index costs the V8 heap a few objects per
 * block and none per key; the keys themselves are read through `KeyOrder` (the key table's
 * off-heap bytes). Keys are binary strings, which compare in byte order.
 */
export const MAX_BLOCK_ITEMS = 512;

/** How the index reads the key of an id. */
export interface KeyOrder {
  /** Negative, zero or positive as the key of `id` sorts before, equal to or after `key`. */
  compareKey(id: number, key: string): number;
  keyEquals(id: number, key: string): boolean;
}

export class OrderedIndex {
  private readonly blocks: Int32Array[] = [];
  /** Ids held per block. */
  private readonly lengths: number[] = [];
  private readonly byKey: KeyIdMap;

  constructor(private readonly keys: KeyOrder) {
    this.byKey = new KeyIdMap((id, key) => keys.keyEquals(id, key));
  }

  get size(): number {
    return this.byKey.size;
  }

  private lastOf(blockIndex: number): number {
    return (this.blocks[blockIndex] as Int32Array)[(this.lengths[blockIndex] as number) - 1] as number;
  }

  /** Index of the first block whose last key is >= key, or blocks.length. */
  private blockFor(key: string): number {
    let low = 0;
    let high = this.blocks.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.keys.compareKey(this.lastOf(middle), key) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Position of the first id in block `blockIndex` whose key is >= key. */
  private lowerBound(blockIndex: number, key: string): number {
    const block = this.blocks[blockIndex] as Int32Array;
    let low = 0;
    let high = this.lengths[blockIndex] as number;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.keys.compareKey(block[middle] as number, key) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  get(key: string): number | undefined {
    return this.byKey.get(key);
  }

  /** Inserts `id` under `key` (not present). */
  insert(id: number, key: string): void {
    assert(!this.byKey.has(key), 'ordered index: duplicate insert');
    this.byKey.add(key, id);
    if (this.blocks.length === 0) {
      this.pushBlock(id);
      return;
    }
    let blockIndex = this.blockFor(key);
    if (blockIndex === this.blocks.length) blockIndex--;
    const block = this.blocks[blockIndex] as Int32Array;
    const length = this.lengths[blockIndex] as number;
    const position = this.lowerBound(blockIndex, key);
    block.copyWithin(position + 1, position, length);
    block[position] = id;
    this.lengths[blockIndex] = length + 1;
    if (length + 1 === MAX_BLOCK_ITEMS) {
      const half = MAX_BLOCK_ITEMS >>> 1;
      const upper = new Int32Array(MAX_BLOCK_ITEMS);
      upper.set(block.subarray(half));
      this.blocks.splice(blockIndex + 1, 0, upper);
      this.lengths.splice(blockIndex + 1, 0, MAX_BLOCK_ITEMS - half);
      this.lengths[blockIndex] = half;
    }
  }

  /** Removes `key`; its id, or undefined when it was not present. */
  remove(key: string): number | undefined {
    const id = this.byKey.delete(key);
    if (id === undefined) return undefined;
    const blockIndex = this.blockFor(key);
    const block = this.blocks[blockIndex];
    assert(block !== undefined, 'ordered index: key in the table but not in a block');
    const length = this.lengths[blockIndex] as number;
    const position = this.lowerBound(blockIndex, key);
    assert(
      position < length && block[position] === id,
      'ordered index: key in the table but not in its block',
    );
    block.copyWithin(position, position + 1, length);
    this.lengths[blockIndex] = length - 1;
    if (length === 1) {
      this.blocks.splice(blockIndex, 1);
      this.lengths.splice(blockIndex, 1);
    }
    return id;
  }

  /**
   * Visits ids with start <= key < end in key order (`end` null: no upper bound) until the
   * visitor returns false.
   */
  scan(start: string, end: string | null, visit: (id: number) => boolean | undefined): void {
    let blockIndex = this.blockFor(start);
    let position = blockIndex < this.blocks.length ? this.lowerBound(blockIndex, start) : 0;
    for (; blockIndex < this.blocks.length; blockIndex++, position = 0) {
      const block = this.blocks[blockIndex] as Int32Array;
      const length = this.lengths[blockIndex] as number;
      for (; position < length; position++) {
        const id = block[position] as number;
        if (end !== null && this.keys.compareKey(id, end) >= 0) return;
        if (visit(id) === false) return;
      }
    }
  }

  forEach(visit: (id: number) => void): void {
    for (let blockIndex = 0; blockIndex < this.blocks.length; blockIndex++) {
      const block = this.blocks[blockIndex] as Int32Array;
      const length = this.lengths[blockIndex] as number;
      for (let position = 0; position < length; position++) visit(block[position] as number);
    }
  }

  *values(): IterableIterator<number> {
    for (let blockIndex = 0; blockIndex < this.blocks.length; blockIndex++) {
      yield* (this.blocks[blockIndex] as Int32Array).subarray(0, this.lengths[blockIndex]);
    }
  }

  /**
   * Adds `id` under `key`, greater than every key present (a snapshot being decoded builds its
   * index this way, a step at a time). Blocks fill to half size, leaving room for inserts.
   */
  appendLast(id: number, key: string): void {
    const last = this.blocks.length - 1;
    assert(
      last < 0 || this.keys.compareKey(this.lastOf(last), key) < 0,
      'ordered index: appended key is not the greatest',
    );
    this.byKey.add(key, id);
    const length = last < 0 ? MAX_BLOCK_ITEMS : (this.lengths[last] as number);
    if (length >= MAX_BLOCK_ITEMS >>> 1) this.pushBlock(id);
    else {
      (this.blocks[last] as Int32Array)[length] = id;
      this.lengths[last] = length + 1;
    }
  }

  private pushBlock(id: number): void {
    const block = new Int32Array(MAX_BLOCK_ITEMS);
    block[0] = id;
    this.blocks.push(block);
    this.lengths.push(1);
  }
}
