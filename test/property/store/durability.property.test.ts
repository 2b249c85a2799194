import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/lib/index.js';
import { EMPTY_HARD_STATE, type StoredEntry, type StoredHardState } from '../../../src/store/index.js';
import { CrashableDisk, open, summary, yieldTurns } from '../../unit/store/support.js';

/** Bound on waiting for an armed crash; writes reach their sync in far fewer turns. */
const MAX_TURNS_TO_REACH_SYNC = 500;
const SEGMENT_SIZE_BYTES = 1024;

type Step =
  | { readonly kind: 'append'; readonly back: number; readonly count: number; readonly dataBytes: number }
  | { readonly kind: 'truncate'; readonly back: number }
  | { readonly kind: 'hardState'; readonly commitBump: number; readonly vote: boolean }
  | { readonly kind: 'settle' }
  | { readonly kind: 'snapshot'; readonly position: number }
  | { readonly kind: 'reset'; readonly ahead: number }
  | {
      readonly kind: 'crash';
      readonly turns: number;
      readonly torn: boolean;
      /** Crash as this many more file syncs have passed and the next one starts. */
      readonly atSync: number | undefined;
    };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      back: fc.nat({ max: 4 }),
      count: fc.integer({ min: 1, max: 6 }),
      dataBytes: fc.integer({ min: 0, max: 300 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), back: fc.nat({ max: 8 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('hardState' as const),
      commitBump: fc.nat({ max: 3 }),
      vote: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'settle' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), position: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), ahead: fc.nat({ max: 5 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('crash' as const),
      turns: fc.nat({ max: 30 }),
      torn: fc.boolean(),
      atSync: fc.option(fc.nat({ max: 2 }), { nil: undefined, freq: 4 }),
    }),
  },
);

/** One issued write and the log and hard state it leads to once it (and all before it) lands. */
interface Issued {
  readonly log: readonly StoredEntry[];
  readonly hardState: StoredHardState;
  /** Lowest index this write removes, if it removes any. */
  readonly truncatesFrom: number | undefined;
  acknowledged: boolean;
}

function sameEntry(a: StoredEntry, b: StoredEntry): boolean {
  return (
    a.index === b.index &&
    a.term === b.term &&
    a.kind === b.kind &&
    Buffer.from(a.data).equals(Buffer.from(b.data))
  );
}

function isPrefixOf(candidate: readonly StoredEntry[], log: readonly StoredEntry[]): boolean {
  return (
    candidate.length <= log.length && candidate.every((item, position) => sameEntry(item, log[position]!))
  );
}

/**
 * Model of the store: the log after the snapshot (`floor`), the hard state, and the
 * writes issued since everything was last known durable.
 */
class Model {
  floor = 0;
  log: StoredEntry[] = [];
  hardState: StoredHardState = EMPTY_HARD_STATE;
  pendingLog: StoredEntry[] = [];
  pendingHardState: StoredHardState = EMPTY_HARD_STATE;
  issued: Issued[] = [];

  issue(promise: Promise<void>, truncatesFrom: number | undefined): void {
    const write: Issued = {
      log: this.pendingLog,
      hardState: this.pendingHardState,
      truncatesFrom,
      acknowledged: false,
    };
    this.issued.push(write);
    promise.then(
      () => {
        write.acknowledged = true;
      },
      () => undefined,
    );
  }

  /** Everything issued is durable: it becomes the base state. */
  settled(): void {
    this.log = this.pendingLog;
    this.hardState = this.pendingHardState;
    this.issued = [];
  }

  restart(entries: StoredEntry[], hardState: StoredHardState): void {
    this.pendingLog = entries;
    this.pendingHardState = hardState;
    this.settled();
  }

  checkRecovery(entries: readonly StoredEntry[], hardState: StoredHardState): void {
    // Acknowledged writes survive unless a later issued write may have removed them.
    const lastAcknowledged = this.issued.findLastIndex((write) => write.acknowledged);
    const base = lastAcknowledged >= 0 ? this.issued[lastAcknowledged]! : undefined;
    const baseLog = base?.log ?? this.log;
    let protectedUpTo = baseLog.at(-1)?.index ?? this.floor;
    for (const write of this.issued.slice(lastAcknowledged + 1)) {
      if (write.truncatesFrom !== undefined) protectedUpTo = Math.min(protectedUpTo, write.truncatesFrom - 1);
    }
    const mustHave = baseLog.filter((item) => item.index <= protectedUpTo);
    expect(summary(entries.slice(0, mustHave.length))).toEqual(summary(mustHave));
    // What came back is a prefix of a state some issued write leads to: nothing invented.
    const states = [this.log, ...this.issued.map((write) => write.log)];
    expect(states.some((state) => isPrefixOf(entries, state))).toBe(true);
    const hardStates = [this.hardState, ...this.issued.map((write) => write.hardState)];
    expect(hardStates).toContainEqual(hardState);
    const acknowledgedHardState = base?.hardState ?? this.hardState;
    expect(hardState.term).toBeGreaterThanOrEqual(acknowledgedHardState.term);
    expect(hardState.commit).toBeGreaterThanOrEqual(acknowledgedHardState.commit);
  }
}

describe('store durability under random crashes', () => {
  it('never loses an acknowledged write and never returns data that was not written', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArbitrary, { minLength: 1, maxLength: 40 }),
        fc.integer(),
        async (steps, seed) => {
          const random = new SeededRandom(seed);
          const crashable = new CrashableDisk();
          const options = { segmentSizeBytes: SEGMENT_SIZE_BYTES };
          let opened = await open(crashable.view(), '/raft', options);
          const model = new Model();
          let term = 1;
          let fill = 0;

          for (const step of steps) {
            const lastIndex = model.pendingLog.at(-1)?.index ?? model.floor;
            switch (step.kind) {
              case 'append': {
                const from = Math.max(model.floor + 1, lastIndex + 1 - step.back);
                if (step.back > 0) term++;
                const added: StoredEntry[] = [];
                for (let offset = 0; offset < step.count; offset++) {
                  const data = new Uint8Array(step.dataBytes).fill(fill++ & 0xff);
                  added.push({ index: from + offset, term, kind: offset % 4, data });
                }
                model.pendingLog = [...model.pendingLog.filter((item) => item.index < from), ...added];
                model.issue(opened.store.append(added), from <= lastIndex ? from : undefined);
                break;
              }
              case 'truncate': {
                const from = Math.max(model.floor + 1, lastIndex + 1 - step.back);
                model.pendingLog = model.pendingLog.filter((item) => item.index < from);
                model.issue(opened.store.truncateSuffix(from), from <= lastIndex ? from : undefined);
                break;
              }
              case 'hardState': {
                term += step.vote ? 1 : 0;
                model.pendingHardState = {
                  term,
                  vote: step.vote ? 1 + (term % 3) : model.pendingHardState.vote,
                  commit: model.pendingHardState.commit + step.commitBump,
                };
                model.issue(opened.store.append([], model.pendingHardState), undefined);
                break;
              }
              case 'settle': {
                await opened.store.append([]);
                model.settled();
                break;
              }
              case 'snapshot': {
                await opened.store.append([]);
                model.settled();
                if (lastIndex <= model.floor) break;
                const index = model.floor + 1 + (step.position % (lastIndex - model.floor));
                const covered = model.log.find((item) => item.index === index)!;
                await opened.store.saveSnapshot({
                  index,
                  term: covered.term,
                  config: new Uint8Array([1]),
                  data: new Uint8Array([index & 0xff]),
                });
                await opened.store.compact(index);
                model.floor = index;
                model.restart(
                  model.log.filter((item) => item.index > index),
                  model.hardState,
                );
                break;
              }
              case 'reset': {
                await opened.store.append([]);
                model.settled();
                const index = lastIndex + 1 + step.ahead;
                term++;
                await opened.store.saveSnapshot({
                  index,
                  term,
                  config: new Uint8Array(),
                  data: new Uint8Array(),
                });
                await opened.store.resetToSnapshot(index);
                model.floor = index;
                model.restart([], model.hardState);
                break;
              }
              case 'crash': {
                const crashesBefore = crashable.crashes;
                if (step.atSync === undefined) {
                  await yieldTurns(step.turns);
                } else {
                  crashable.armCrashAtSync(step.atSync, random, step.torn ? 1 : 0);
                  for (
                    let turn = 0;
                    turn < MAX_TURNS_TO_REACH_SYNC && crashable.crashes === crashesBefore;
                    turn++
                  ) {
                    await yieldTurns(1);
                  }
                }
                if (crashable.crashes === crashesBefore) crashable.crash(random, step.torn ? 1 : 0);
                opened = await open(crashable.view(), '/raft', options);
                expect(opened.recovered.snapshot?.index ?? 0).toBe(model.floor);
                model.checkRecovery(opened.recovered.entries, opened.recovered.hardState);
                model.restart(opened.recovered.entries, opened.recovered.hardState);
                term = Math.max(term, model.hardState.term, model.log.at(-1)?.term ?? 0) + 1;
                break;
              }
            }
          }
          await opened.store.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
