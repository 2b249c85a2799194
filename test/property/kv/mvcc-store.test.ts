import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/kv/bytes.js';
import { type KeyRecord, MvccStore, type StoreView, storedRecordBytes } from '../../../src/kv/mvcc.js';
import type { KeyRange } from '../../../src/kv/validate.js';

/**
 * The packed store (records in a key table's pooled slots, values in slabs, the change log as two columns) against
 * the plainest reference: every record ever committed, in a list. Reads at any kept revision,
 * history (watch catch-up) from any kept revision with each change's previous record, and what
 * compaction keeps must agree.
 */
const KEYS = ['a', 'b', 'c', 'd', 'e'];

type Step =
  | {
      readonly type: 'group';
      readonly ops: readonly {
        readonly key: string;
        readonly value: string | null;
        readonly lease: number;
      }[];
      readonly rollback: boolean;
    }
  | { readonly type: 'compact'; readonly fraction: number }
  | { readonly type: 'openView' }
  | { readonly type: 'closeView' }
  | { readonly type: 'dropStep'; readonly maxRecords: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('group' as const),
      ops: fc.uniqueArray(
        fc.record({
          key: fc.constantFrom(...KEYS),
          value: fc.option(fc.string({ maxLength: 4 }), { nil: null, freq: 4 }),
          lease: fc.constantFrom(0, 0, 7, 2 ** 40),
        }),
        { minLength: 1, maxLength: 3, selector: (op) => op.key },
      ),
      rollback: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('compact' as const), fraction: fc.double({ min: 0, max: 1 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'openView' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'closeView' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('dropStep' as const),
      maxRecords: fc.integer({ min: 1, max: 4 }),
    }),
  },
);

class Reference {
  readonly records: KeyRecord[] = [];
  currentRevision = 1;
  compactRevision = 0;

  newest(key: string, revisionAtMost: number): KeyRecord | undefined {
    let found: KeyRecord | undefined;
    for (const record of this.records)
      if (record.key === key && record.modRevision <= revisionAtMost) found = record;
    return found;
  }

  live(key: string, revision: number): KeyRecord | undefined {
    const record = this.newest(key, revision);
    return record?.value === null ? undefined : record;
  }

  /** Records compaction at `compactRevision` keeps (see docs/KV.md). */
  kept(): KeyRecord[] {
    return this.records.filter((record) => {
      const base = this.newest(record.key, this.compactRevision);
      if (base === undefined) return true;
      if (record.modRevision < base.modRevision) return false;
      return !(record === base && base.value === null && base.modRevision < this.compactRevision);
    });
  }
}

const ALL: KeyRange = { start: '', end: null, single: false };

function scanAll(store: MvccStore, range: KeyRange, revision: number): KeyRecord[] {
  const records: KeyRecord[] = [];
  store.scan(range, revision, (record) => {
    records.push(record);
    return true;
  });
  return records;
}

function expectSameReads(store: MvccStore, reference: Reference, revision: number): void {
  const expected = KEYS.map((key) => reference.live(key, revision)).filter((record) => record !== undefined);
  expect(scanAll(store, ALL, revision)).toEqual(expected);
  expect(scanAll(store, { start: 'b', end: 'd', single: false }, revision)).toEqual(
    expected.filter((record) => record.key >= 'b' && record.key < 'd'),
  );
  for (const key of KEYS)
    expect(scanAll(store, { start: key, end: null, single: true }, revision)).toEqual(
      expected.filter((record) => record.key === key),
    );
}

/** With no view open and no held history left, compaction has dropped exactly what it drops. */
function expectKept(store: MvccStore, reference: Reference): void {
  const kept = reference.kept();
  expect(store.storedRecordCount).toBe(kept.length);
  expect(store.storedBytes).toBe(kept.reduce((total, record) => total + storedRecordBytes(record), 0));
  expect(store.index.size).toBe(new Set(kept.map((record) => record.key)).size);
}

describe('MvccStore (packed records)', () => {
  it('answers reads, history and compaction as a plain list of every record does', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 60 }), fc.nat(), (steps, seed) => {
        const store = new MvccStore();
        const reference = new Reference();
        const views: StoreView[] = [];
        for (const step of steps) {
          if (step.type === 'group') {
            store.begin();
            const written: KeyRecord[] = [];
            for (const op of step.ops) {
              const change =
                op.value === null ? store.delete(op.key) : store.put(op.key, utf8(op.value), op.lease);
              if (change === undefined) {
                expect(reference.live(op.key, reference.currentRevision)).toBeUndefined();
                continue;
              }
              expect(change.previous).toEqual(reference.live(op.key, reference.currentRevision));
              written.push(change.record);
            }
            if (step.rollback) {
              store.rollback();
            } else {
              store.commit();
              reference.records.push(...written);
              if (written.length > 0) reference.currentRevision++;
            }
          } else if (step.type === 'compact') {
            const span = reference.currentRevision - reference.compactRevision;
            const revision = reference.compactRevision + Math.ceil(span * step.fraction);
            if (revision > reference.compactRevision) {
              store.compact(revision);
              reference.compactRevision = revision;
            }
          } else if (step.type === 'openView') {
            views.push(store.openView());
            // A view never shows a half-dropped history.
            if (views.length === 1) expect(store.heldHistoryPending).toBe(false);
          } else if (step.type === 'closeView') {
            views.shift()?.close();
          } else if (views.length === 0) {
            store.dropHeldHistory(step.maxRecords);
          }
          expect(store.currentRevision).toBe(reference.currentRevision);
          const lowest = Math.max(1, reference.compactRevision);
          const revision = lowest + (seed % (reference.currentRevision - lowest + 1));
          expectSameReads(store, reference, revision);
          const history = store.history(ALL, lowest, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
          expect(history.records).toEqual(reference.records.filter((record) => record.modRevision >= lowest));
          expect(history.nextRevision).toBe(reference.currentRevision + 1);
          if (views.length === 0 && !store.heldHistoryPending) expectKept(store, reference);
        }
        for (const view of views) view.close();
        while (!store.dropHeldHistory(1)) {}
        expectKept(store, reference);
        for (const record of reference.records.filter(
          (item) => item.modRevision > reference.compactRevision,
        )) {
          expect(store.previousOf(record)).toEqual(reference.live(record.key, record.modRevision - 1));
        }
      }),
      { numRuns: 200 },
    );
  });
});
