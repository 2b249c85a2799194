import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type KeyOrder, OrderedIndex } from '../../../src/kv/index.js';

/** Keys as binary strings over a few byte values, so that prefixes and equal keys come often. */
const binaryKey = fc
  .array(fc.constantFrom(0, 1, 0x61, 0x7f, 0x80, 0xff), { maxLength: 3 })
  .map((bytes) => String.fromCharCode(...bytes));

/** Ids are positions in a plain array of the keys (the key table keeps them off-heap instead). */
class KeyList implements KeyOrder {
  readonly keys: string[] = [];
  compareKey(id: number, key: string): number {
    const own = this.keys[id] as string;
    return own < key ? -1 : own > key ? 1 : 0;
  }
  keyEquals(id: number, key: string): boolean {
    return this.keys[id] === key;
  }
}

describe('OrderedIndex', () => {
  it('agrees with a sorted array under random inserts, removes and scans', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), binaryKey), { minLength: 500, maxLength: 3000 }),
        binaryKey,
        binaryKey,
        (operations, from, to) => {
          const list = new KeyList();
          const index = new OrderedIndex(list);
          const model = new Map<string, number>();
          for (const [insert, key] of operations) {
            if (insert && !model.has(key)) {
              const id = list.keys.push(key) - 1;
              index.insert(id, key);
              model.set(key, id);
            } else if (!insert) {
              expect(index.remove(key)).toBe(model.get(key));
              model.delete(key);
            }
          }
          const sorted = [...model.keys()].sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
          expect([...index.values()].map((id) => list.keys[id])).toEqual(sorted);
          expect(index.size).toBe(model.size);
          const scanned: string[] = [];
          index.scan(from, to, (id) => {
            scanned.push(list.keys[id] as string);
            return true;
          });
          expect(scanned).toEqual(sorted.filter((key) => key >= from && key < to));
          for (const key of sorted) expect(index.get(key)).toBe(model.get(key));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('splits and empties blocks as thousands of keys come and go, in and out of order', () => {
    const list = new KeyList();
    const index = new OrderedIndex(list);
    const keyOf = (number: number): string => `k${String(number).padStart(5, '0')}`;
    // Every third key first (filling blocks out of order), then the rest, then half removed.
    for (let pass = 0; pass < 3; pass++)
      for (let number = pass; number < 6000; number += 3)
        index.insert(list.keys.push(keyOf(number)) - 1, keyOf(number));
    for (let number = 0; number < 6000; number += 2) expect(index.remove(keyOf(number))).toBeDefined();
    const remaining = [...index.values()].map((id) => list.keys[id]);
    expect(remaining).toEqual(Array.from({ length: 3000 }, (_, half) => keyOf(half * 2 + 1)));
    expect(index.get(keyOf(2))).toBeUndefined();
    expect(list.keys[index.get(keyOf(3)) as number]).toBe(keyOf(3));
  });
});
