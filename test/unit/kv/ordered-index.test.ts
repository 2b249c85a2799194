import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderedIndex } from '../../../src/kv/index.js';

describe('OrderedIndex', () => {
  it('agrees with a sorted array under random inserts, removes and scans', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 3 })), { maxLength: 3000 }),
        fc.string({ maxLength: 3 }),
        fc.string({ maxLength: 3 }),
        (operations, from, to) => {
          const index = new OrderedIndex<{ key: string }>();
          const model = new Set<string>();
          for (const [insert, key] of operations) {
            if (insert && !model.has(key)) {
              index.insert({ key });
              model.add(key);
            } else if (!insert) {
              expect(index.remove(key)).toBe(model.delete(key));
            }
          }
          const sorted = [...model].sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
          expect([...index.values()].map((item) => item.key)).toEqual(sorted);
          expect(index.size).toBe(model.size);
          const scanned: string[] = [];
          index.scan(from, to, (item) => {
            scanned.push(item.key);
            return true;
          });
          expect(scanned).toEqual(sorted.filter((key) => key >= from && key < to));
          for (const key of sorted.slice(0, 20)) expect(index.get(key)?.key).toBe(key);
        },
      ),
      { numRuns: 60 },
    );
  });
});
