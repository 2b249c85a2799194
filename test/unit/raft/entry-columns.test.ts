import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD_BYTES } from '../../../src/raft/constants.js';
import { EntryColumns, MAX_SHARED_ENTRY_DATA_BYTES } from '../../../src/raft/entry-columns.js';
import type { Entry, EntryKind } from '../../../src/raft/types.js';

/** What the model keeps of an entry: plain values and a copy of its bytes. */
interface ModelEntry {
  readonly term: number;
  readonly kind: EntryKind;
  readonly bytes: Uint8Array;
}

type Command =
  | { readonly type: 'push'; readonly entries: readonly ModelEntry[] }
  // Truncation drops the last `dropLast` entries, or without it keeps `fraction` of them.
  | { readonly type: 'truncate'; readonly fraction: number; readonly dropLast: number | null }
  | { readonly type: 'dropFront'; readonly fraction: number };

/** Small slabs, so that a few appends fill one. */
const SLAB_BYTES = 10_000;

// Sizes around the edges that matter: empty, small, shared ones large enough that a few fill a
// slab, the largest shared, and past it.
const dataLength = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 64 }),
  fc.constant(MAX_SHARED_ENTRY_DATA_BYTES),
  fc.integer({ min: MAX_SHARED_ENTRY_DATA_BYTES + 1, max: MAX_SHARED_ENTRY_DATA_BYTES + 64 }),
  fc.integer({ min: 1000, max: MAX_SHARED_ENTRY_DATA_BYTES - 1 }),
);
/** `length` bytes of `fill`, the last one different: cheap to make, hard to confuse. */
const patterned = (length: number, fill: number): Uint8Array => {
  const bytes = new Uint8Array(length).fill(fill);
  if (length > 1) bytes[length - 1] = (fill * 7 + length) & 0xff;
  return bytes;
};
const modelEntry: fc.Arbitrary<ModelEntry> = fc
  .record({
    term: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constant(2 ** 40)),
    kind: fc.constantFrom<EntryKind>('normal', 'config', 'noop'),
    length: dataLength,
    fill: fc.integer({ min: 0, max: 255 }),
  })
  .map(({ term, kind, length, fill }) => ({
    term,
    kind,
    bytes: patterned(length, fill),
  }));
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('push' as const),
      entries: fc.array(modelEntry, { maxLength: 12 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('truncate' as const),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
      dropLast: fc.option(fc.integer({ min: 0, max: 3 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('dropFront' as const),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
);

const asEntry = (model: ModelEntry, index: number): Entry => ({
  term: model.term,
  index,
  kind: model.kind,
  data: model.bytes.slice(),
});

const sameBytes = (left: Uint8Array, right: Uint8Array): boolean =>
  Buffer.from(left.buffer, left.byteOffset, left.byteLength).equals(right);

describe('EntryColumns', () => {
  it('stores small data after a truncation that removed the open slab in a slab it keeps', () => {
    const columns = new EntryColumns(SLAB_BYTES);
    const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);
    const at = (index: number, data: Uint8Array): Entry => ({ term: 1, index, kind: 'normal', data });
    // Small, large, small: the second small one reopens the first one's slab under a new number.
    columns.push([
      at(1, bytes(10, 1)),
      at(2, bytes(MAX_SHARED_ENTRY_DATA_BYTES + 1, 2)),
      at(3, bytes(10, 3)),
    ]);
    columns.truncate(2);
    columns.push([at(3, bytes(10, 4)), at(4, bytes(MAX_SHARED_ENTRY_DATA_BYTES + 1, 5))]);
    expect([0, 1, 2, 3].map((position) => columns.entry(position, position + 1).data[0])).toEqual([
      1, 2, 4, 5,
    ]);
    expect(columns.slabCount).toBe(4);
    columns.dropFront(3);
    expect(columns.slabCount).toBe(1);
  });

  it('answers as a plain array of entries under any appends, truncations and prefix drops', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60, size: 'medium' }), (commands) => {
        const columns = new EntryColumns(SLAB_BYTES);
        let model: ModelEntry[] = [];
        // Views handed out earlier, with the bytes they showed: they must keep them.
        const handedOut: { readonly data: Uint8Array; readonly bytes: Uint8Array }[] = [];
        for (const step of commands) {
          if (step.type === 'push') {
            const given = step.entries.map((entry, offset) => asEntry(entry, model.length + offset));
            columns.push(given);
            for (const entry of given) entry.data.fill(0xee); // the log keeps its own copy of small data
            // A large entry's buffer is kept as given, so the log shows what its owner wrote last.
            const kept = (entry: ModelEntry): ModelEntry =>
              entry.bytes.length > MAX_SHARED_ENTRY_DATA_BYTES
                ? { ...entry, bytes: new Uint8Array(entry.bytes.length).fill(0xee) }
                : entry;
            model = [...model, ...step.entries.map(kept)];
          } else if (step.type === 'truncate') {
            const length =
              step.dropLast === null
                ? Math.floor(step.fraction * model.length)
                : Math.max(model.length - step.dropLast, 0);
            columns.truncate(length);
            model = model.slice(0, length);
          } else {
            const count = Math.floor(step.fraction * model.length);
            columns.dropFront(count);
            model = model.slice(count);
          }
          expect(columns.length).toBe(model.length);
          const wrong: number[] = [];
          for (let position = 0; position < model.length; position++) {
            const expected = model[position]!;
            const entry = columns.entry(position, 1000 + position);
            const right =
              columns.term(position) === expected.term &&
              columns.sizeBytes(position) === expected.bytes.length + ENTRY_OVERHEAD_BYTES &&
              entry.term === expected.term &&
              entry.index === 1000 + position &&
              entry.kind === expected.kind &&
              sameBytes(entry.data, expected.bytes);
            if (!right) wrong.push(position);
            if (expected.bytes.length > 0 && handedOut.length < 200 && position % 7 === 0)
              handedOut.push({ data: entry.data, bytes: expected.bytes });
          }
          expect(wrong).toEqual([]);
          const withData = model.filter((entry) => entry.bytes.length > 0).length;
          expect(columns.slabCount).toBeLessThanOrEqual(model.length === 0 ? 0 : withData + 1);
        }
        for (const view of handedOut) expect(sameBytes(view.data, view.bytes)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
