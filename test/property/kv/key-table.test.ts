import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyTable, type RecordNumbers, TOMBSTONE_LENGTH } from '../../../src/kv/key-table.js';
import { MAX_SHARED_CLASS, MAX_SPARE_CHUNKS, RECORD_SLOTS } from '../../../src/kv/record-pool.js';
import { ValueArena } from '../../../src/kv/value-arena.js';

/**
 * The key table (ids, typed-array columns, records in a buddy-allocated pool) against the plainest
 * model: a map from key to its list of records. Keys come and go, records are appended, the newest
 * taken back (a rollback), the oldest dropped (a compaction), across enough keys and records that
 * extents split, grow, shrink, merge and chunks are dropped and made again.
 */
interface ModelRecord {
  readonly numbers: RecordNumbers;
  readonly address: number;
  readonly length: number;
}

type Operation =
  | { readonly type: 'append'; readonly key: number; readonly tombstone: boolean; readonly times: number }
  | { readonly type: 'removeLast'; readonly key: number }
  | { readonly type: 'dropBefore'; readonly key: number; readonly keep: number }
  | { readonly type: 'remove'; readonly key: number };

const KEY_COUNT = 40;
const CHUNK_BYTES = 2 ** MAX_SHARED_CLASS * RECORD_SLOTS * 8;
const keyName = (key: number): string => `k${String(key).padStart(3, '0')}`;

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('append' as const),
      key: fc.nat(KEY_COUNT - 1),
      tombstone: fc.boolean(),
      times: fc.integer({ min: 1, max: 40 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('removeLast' as const), key: fc.nat(KEY_COUNT - 1) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('dropBefore' as const),
      key: fc.nat(KEY_COUNT - 1),
      keep: fc.integer({ min: 1, max: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('remove' as const), key: fc.nat(KEY_COUNT - 1) }) },
);

function expectSame(table: KeyTable, model: Map<string, ModelRecord[]>): void {
  const sorted = [...model.keys()].sort();
  expect(table.size).toBe(model.size);
  const scanned: string[] = [];
  table.index.scan('', null, (id) => {
    scanned.push(table.key(id));
    return true;
  });
  expect(scanned).toEqual(sorted);
  for (const key of sorted) {
    const id = table.find(key) as number;
    const records = model.get(key) as ModelRecord[];
    expect(table.recordCount(id)).toBe(records.length);
    records.forEach((record, position) => {
      const { modRevision, subRevision, createRevision, version, lease } = record.numbers;
      const fields = [0, 1, 2, 3, 4].map((field) => table.fieldAt(id, position, field));
      expect(fields).toEqual([modRevision, subRevision, createRevision, version, lease]);
      expect(table.valueAddressAt(id, position)).toBe(record.address);
      expect(table.valueLengthAt(id, position)).toBe(record.length);
      expect(table.isTombstoneAt(id, position)).toBe(record.length === TOMBSTONE_LENGTH);
    });
    const middle = records[records.length >>> 1] as ModelRecord;
    expect(table.positionAtOrBelow(id, middle.numbers.modRevision)).toBe(records.length >>> 1);
    expect(table.positionAtOrBelow(id, (records[0] as ModelRecord).numbers.modRevision - 1)).toBe(-1);
  }
}

describe('KeyTable', () => {
  it('keeps every key and record as a plain map of lists does', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 300 }), (operations) => {
        const table = new KeyTable();
        const model = new Map<string, ModelRecord[]>();
        let revision = 0;
        for (const step of operations) {
          const key = keyName(step.key);
          const records = model.get(key);
          if (step.type === 'append') {
            const id = table.find(key) ?? table.create(key);
            const list = records ?? [];
            model.set(key, list);
            for (let time = 0; time < step.times; time++) {
              revision++;
              const numbers = {
                modRevision: revision,
                subRevision: time % 3,
                createRevision: step.tombstone ? 0 : revision - time,
                version: step.tombstone ? 0 : time + 1,
                lease: step.tombstone ? 0 : 2 ** 40 + step.key,
              };
              const length = step.tombstone ? TOMBSTONE_LENGTH : time;
              table.append(id, numbers, 1_000_000 + revision, length);
              list.push({ numbers, address: 1_000_000 + revision, length });
            }
          } else if (records === undefined) {
            expect(table.find(key)).toBeUndefined();
          } else if (
            step.type === 'removeLast' ||
            (step.type === 'dropBefore' && records.length <= step.keep)
          ) {
            const id = table.find(key) as number;
            table.removeLast(id);
            records.pop();
            if (records.length === 0) {
              table.remove(id);
              model.delete(key);
            }
          } else if (step.type === 'dropBefore') {
            table.dropBefore(table.find(key) as number, records.length - step.keep);
            records.splice(0, records.length - step.keep);
          } else {
            table.remove(table.find(key) as number);
            model.delete(key);
          }
        }
        expectSame(table, model);
        for (const key of [...model.keys()]) {
          table.remove(table.find(key) as number);
          model.delete(key);
        }
        // Every extent freed merged back into whole chunks: a few kept as spares, the rest dropped.
        expect(table.freeRecordBytes).toBe(table.recordBytes);
        expect(table.recordBytes).toBeLessThanOrEqual(MAX_SPARE_CHUNKS * CHUNK_BYTES);
        if (table.recordBytes > 0) {
          // Half a chunk's records (growing through every class below, each move holding both
          // extents) fit the spares: the free extents did merge.
          const held = table.recordBytes;
          const id = table.create('whole');
          for (let record = 1; record <= 2 ** (MAX_SHARED_CLASS - 1); record++) {
            table.append(
              id,
              { modRevision: record, subRevision: 0, createRevision: 1, version: record, lease: 0 },
              0,
              0,
            );
          }
          expect(table.recordBytes).toBe(held);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('gives a key with more records than a shared chunk holds a chunk of its own, and shrinks it back', () => {
    const table = new KeyTable();
    const values = new ValueArena();
    const small = table.create('a');
    table.append(small, { modRevision: 1, subRevision: 0, createRevision: 1, version: 1, lease: 0 }, 0, 0);
    const large = table.create('b');
    const records = 2 ** MAX_SHARED_CLASS + 5;
    for (let revision = 2; revision < records + 2; revision++) {
      table.append(
        large,
        { modRevision: revision, subRevision: 0, createRevision: 2, version: revision - 1, lease: 0 },
        0,
        0,
      );
    }
    expect(table.recordCount(large)).toBe(records);
    expect(table.positionAtOrBelow(large, 1000)).toBe(998);
    table.dropBefore(large, records - 2);
    expect(table.recordCount(large)).toBe(2);
    expect(table.recordAt(large, 0, values).modRevision).toBe(records);
    expect(table.recordAt(large, 1, values).version).toBe(records);
    expect(table.recordAt(small, 0, values).modRevision).toBe(1);
  });
});
