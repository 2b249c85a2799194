import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeKvCommand,
  type KvCommand,
  type KvResult,
  KvStateMachine,
  type RequestOp,
  utf8,
} from '../../../src/kv/index.js';

/** The reference: one plain Map per revision. */
interface ModelValue {
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
}

class Model {
  readonly states: Map<string, ModelValue>[] = [new Map(), new Map()]; // index = revision; 1 is empty
  compactRevision = 0;

  get revision(): number {
    return this.states.length - 1;
  }

  current(): Map<string, ModelValue> {
    return this.states[this.revision] as Map<string, ModelValue>;
  }

  /** Runs writes on a copy and commits one revision if anything changed. */
  write(ops: readonly ((next: Map<string, ModelValue>, revision: number) => boolean)[]): void {
    const next = new Map(this.current());
    let changed = false;
    for (const op of ops) changed = op(next, this.revision + 1) || changed;
    if (changed) this.states.push(next);
  }

  static put(key: string, value: string) {
    return (next: Map<string, ModelValue>, revision: number): boolean => {
      const previous = next.get(key);
      next.set(key, {
        value,
        createRevision: previous?.createRevision ?? revision,
        modRevision: revision,
        version: (previous?.version ?? 0) + 1,
      });
      return true;
    };
  }

  static deleteRange(start: string, end: string | undefined) {
    return (next: Map<string, ModelValue>): boolean => {
      let changed = false;
      for (const key of [...next.keys()]) {
        if (end === undefined ? key === start : key >= start && key < end)
          changed = next.delete(key) || changed;
      }
      return changed;
    };
  }

  read(start: string, end: string | undefined, revision: number): string | [string, ModelValue][] {
    const at = revision === 0 ? this.revision : revision;
    if (at > this.revision) return 'KV_FUTURE_REVISION';
    if (at < this.compactRevision) return 'KV_COMPACTED';
    const state = this.states[at] as Map<string, ModelValue>;
    return [...state.entries()]
      .filter(([key]) => (end === undefined ? key === start : key >= start && key < end))
      .sort(([left], [right]) => (left < right ? -1 : 1));
  }
}

const keyArbitrary = fc.constantFrom('a', 'ab', 'b', 'ba', 'c');
const endArbitrary = fc.option(fc.constantFrom('b', 'c', 'd'), { nil: undefined });

type Step =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'delete'; key: string; end: string | undefined }
  | { kind: 'range'; key: string; end: string | undefined; back: number }
  | { kind: 'txn'; key: string; version: number; putKey: string; deleteKey: string }
  | { kind: 'compact'; back: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      key: keyArbitrary,
      value: fc.string({ maxLength: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArbitrary, end: endArbitrary }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('range' as const),
      key: keyArbitrary,
      end: endArbitrary,
      back: fc.integer({ min: -1, max: 6 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('txn' as const),
      key: keyArbitrary,
      version: fc.integer({ min: 0, max: 2 }),
      putKey: keyArbitrary,
      deleteKey: keyArbitrary,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.integer({ min: -1, max: 4 }) }),
  },
);

const decode = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

function rangeOf(key: string, end: string | undefined): { key: Uint8Array; rangeEnd?: Uint8Array } {
  return end === undefined ? { key: utf8(key) } : { key: utf8(key), rangeEnd: utf8(end) };
}

describe('KvStateMachine against a Map-per-revision model', () => {
  it('agrees on values, versions and revisions; replicas and restores stay byte-identical', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 1, maxLength: 60 }), (steps) => {
        const machine = new KvStateMachine();
        const replica = new KvStateMachine();
        const model = new Model();
        let index = 0;
        const apply = (command: KvCommand): KvResult => {
          index++;
          const encoded = encodeKvCommand(command);
          replica.apply(index, encoded);
          return machine.apply(index, encoded).result;
        };
        for (const step of steps) {
          switch (step.kind) {
            case 'put': {
              const result = apply({ type: 'put', key: utf8(step.key), value: utf8(step.value) });
              model.write([Model.put(step.key, step.value)]);
              expect(result.type).toBe('put');
              break;
            }
            case 'delete': {
              const result = apply({ type: 'deleteRange', ...rangeOf(step.key, step.end) });
              if (step.end !== undefined && step.end < step.key) {
                expect(result.type === 'error' && result.error.code).toBe('KV_INVALID_RANGE');
                break;
              }
              model.write([Model.deleteRange(step.key, step.end)]);
              expect(result.type).toBe('deleteRange');
              break;
            }
            case 'range': {
              const revision = step.back < 0 ? 0 : Math.max(1, model.revision - step.back);
              const result = apply({ type: 'range', ...rangeOf(step.key, step.end), revision });
              if (step.end !== undefined && step.end < step.key) {
                expect(result.type === 'error' && result.error.code).toBe('KV_INVALID_RANGE');
                break;
              }
              const expected = model.read(step.key, step.end, revision);
              if (typeof expected === 'string') {
                expect(result.type === 'error' && result.error.code).toBe(expected);
                break;
              }
              expect(result.type).toBe('range');
              if (result.type !== 'range') break;
              expect(result.header.revision).toBe(model.revision);
              expect(result.count).toBe(expected.length);
              expect(
                result.kvs.map((kv) => [
                  decode(kv.key),
                  decode(kv.value),
                  kv.createRevision,
                  kv.modRevision,
                  kv.version,
                ]),
              ).toEqual(
                expected.map(([key, value]) => [
                  key,
                  value.value,
                  value.createRevision,
                  value.modRevision,
                  value.version,
                ]),
              );
              break;
            }
            case 'txn': {
              const success: RequestOp[] = [{ type: 'put', key: utf8(step.putKey), value: utf8('t') }];
              const failure: RequestOp[] = [{ type: 'deleteRange', key: utf8(step.deleteKey) }];
              const result = apply({
                type: 'txn',
                compare: [{ key: utf8(step.key), target: 'version', result: 'equal', number: step.version }],
                success,
                failure,
              });
              const holds = (model.current().get(step.key)?.version ?? 0) === step.version;
              if (holds) model.write([Model.put(step.putKey, 't')]);
              else model.write([Model.deleteRange(step.deleteKey, undefined)]);
              expect(result.type === 'txn' && result.succeeded).toBe(holds);
              expect(result.header.revision).toBe(model.revision);
              break;
            }
            case 'compact': {
              const revision = step.back < 0 ? model.revision + 1 : Math.max(0, model.revision - step.back);
              const result = apply({ type: 'compact', revision });
              if (revision > model.revision) {
                expect(result.type === 'error' && result.error.code).toBe('KV_FUTURE_REVISION');
              } else if (revision <= model.compactRevision) {
                expect(result.type === 'error' && result.error.code).toBe('KV_COMPACTED');
              } else {
                expect(result.type).toBe('compact');
                model.compactRevision = revision;
              }
              break;
            }
          }
          expect(machine.revision).toBe(model.revision);
        }
        const snapshot = machine.snapshot();
        expect(replica.snapshot()).toEqual(snapshot);
        expect(KvStateMachine.fromSnapshot(snapshot).snapshot()).toEqual(snapshot);
        // Every retained revision still reads as the model says after a restore.
        const restored = KvStateMachine.fromSnapshot(snapshot);
        for (let revision = Math.max(1, model.compactRevision); revision <= model.revision; revision++) {
          const all = restored.range({
            type: 'range',
            key: new Uint8Array([0]),
            rangeEnd: new Uint8Array([0]),
            revision,
          });
          const expectedAll = [...(model.states[revision] as Map<string, ModelValue>).entries()].sort(
            ([left], [right]) => (left < right ? -1 : 1),
          );
          expect(all.kvs.map((kv) => [decode(kv.key), decode(kv.value), kv.version])).toEqual(
            expectedAll.map(([key, value]) => [key, value.value, value.version]),
          );
        }
      }),
      { numRuns: 150 },
    );
  });
});
