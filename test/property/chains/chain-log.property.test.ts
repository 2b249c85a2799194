import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChainEntry, EpochStart, SegmentedChainLog } from '../../../src/chains/index.js';
import { SeededRandom } from '../../../src/lib/index.js';
import { openLog, readAll, record, summary } from '../../unit/chains/chain-log-support.js';
import { CrashableDisk, yieldTurns } from '../../unit/store/support.js';

/** Bound on waiting for an armed crash; writes reach their sync in far fewer turns. */
const MAX_TURNS_TO_REACH_SYNC = 500;
const SEGMENT_BYTES = 1024;
const RETENTION_BYTES = 3 * SEGMENT_BYTES;

type Step =
  | {
      readonly kind: 'append';
      readonly count: number;
      readonly newEpoch: boolean;
      readonly payloadBytes: number;
    }
  | { readonly kind: 'truncate'; readonly back: number }
  | { readonly kind: 'durable' }
  | { readonly kind: 'promise'; readonly bump: number }
  | { readonly kind: 'read'; readonly back: number; readonly maxRecords: number; readonly maxBytes: number }
  | { readonly kind: 'retention' }
  | { readonly kind: 'restart'; readonly ahead: number }
  | { readonly kind: 'reopen' }
  | {
      readonly kind: 'crash';
      readonly turns: number;
      readonly torn: boolean;
      readonly atSync: number | undefined;
    };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      count: fc.integer({ min: 1, max: 8 }),
      newEpoch: fc.boolean(),
      payloadBytes: fc.integer({ min: 0, max: 200 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), back: fc.nat({ max: 25 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('durable' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('promise' as const), bump: fc.nat({ max: 2 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      back: fc.nat({ max: 40 }),
      maxRecords: fc.integer({ min: 1, max: 30 }),
      maxBytes: fc.integer({ min: 1, max: 3000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retention' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), ahead: fc.nat({ max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('crash' as const),
      turns: fc.nat({ max: 40 }),
      torn: fc.boolean(),
      atSync: fc.option(fc.nat({ max: 6 }), { nil: undefined }),
    }),
  },
);

/** The epoch history the records imply, as the log keeps it (the first epoch begins at the log's start). */
function historyOf(records: readonly ChainEntry[]): EpochStart[] {
  const history: EpochStart[] = [];
  for (const entry of records) {
    if (history.length === 0 || entry.epoch > history.at(-1)!.epoch) {
      history.push({ epoch: entry.epoch, offset: entry.offset });
    }
  }
  return history;
}

/** A read's answer by its contract: the first record always, then while the budgets allow. */
function withinBudget(
  records: readonly ChainEntry[],
  from: number,
  maxRecords: number,
  maxBytes: number,
): ChainEntry[] {
  const result: ChainEntry[] = [];
  let payloadBytes = 0;
  for (const entry of records) {
    if (entry.offset < from) continue;
    if (result.length >= maxRecords) break;
    if (result.length > 0 && payloadBytes + entry.payload.byteLength > maxBytes) break;
    result.push(entry);
    payloadBytes += entry.payload.byteLength;
  }
  return result;
}

/** What a replica's log must hold: its records (from `start` on) and what durable() confirmed. */
interface Model {
  records: ChainEntry[];
  start: number;
  epoch: number;
  /** Every record below this offset was confirmed by durable() and must survive a crash. */
  confirmed: number;
  promised: number;
  confirmedPromise: number;
}

async function checkMatches(log: SegmentedChainLog, model: Model): Promise<void> {
  const kept = model.records;
  expect(log.startOffset).toBe(model.start);
  expect(log.endOffset).toBe(model.start + kept.length);
  expect(summary(await readAll(log, 13))).toEqual(summary(kept));
  expect(log.epochHistory()).toEqual(historyOf(kept));
  expect(log.lastEpoch).toBe(kept.at(-1)?.epoch ?? 0);
  expect(log.promisedEpoch).toBe(model.promised);
}

async function runSteps(steps: readonly Step[], seed: number): Promise<void> {
  const random = new SeededRandom(seed);
  const crashable = new CrashableDisk();
  const options = { segmentBytes: SEGMENT_BYTES, retention: { maxBytes: RETENTION_BYTES } };
  let log = await openLog(crashable.view(), options);
  const model: Model = { records: [], start: 0, epoch: 1, confirmed: 0, promised: 0, confirmedPromise: 0 };
  for (const step of steps) {
    switch (step.kind) {
      case 'append': {
        if (step.newEpoch) model.epoch++;
        const from = log.endOffset;
        const batch = Array.from({ length: step.count }, (_, position) =>
          record(from + position, model.epoch, step.payloadBytes, 5_000 + from + position),
        );
        log.append(batch);
        model.records.push(...batch);
        break;
      }
      case 'truncate': {
        const offset = Math.max(log.startOffset, log.endOffset - step.back);
        log.truncateFrom(offset);
        model.records = model.records.filter((entry) => entry.offset < offset);
        model.confirmed = Math.min(model.confirmed, offset);
        break;
      }
      case 'durable': {
        const durableOffset = await log.durable();
        expect(durableOffset).toBe(log.endOffset);
        model.confirmed = durableOffset;
        model.confirmedPromise = model.promised;
        break;
      }
      case 'promise':
        model.promised += step.bump;
        log.setPromisedEpoch(model.promised);
        break;
      case 'read': {
        const from = Math.max(log.startOffset, log.endOffset - step.back);
        const read = await log.read(from, step.maxRecords, step.maxBytes);
        expect(summary(read)).toEqual(
          summary(withinBudget(model.records, from, step.maxRecords, step.maxBytes)),
        );
        break;
      }
      case 'retention':
        await log.applyRetention(0);
        model.start = log.startOffset;
        model.records = model.records.filter((entry) => entry.offset >= model.start);
        break;
      case 'restart': {
        // As a replica joining a leader's start: everything goes, the log continues there.
        const offset = log.endOffset + step.ahead;
        log.restartAt(offset);
        model.records = [];
        model.start = offset;
        // Until the next durable() a crash may leave the old log, a suffix of it, or nothing.
        model.confirmed = 0;
        break;
      }
      case 'reopen':
        await log.close();
        log = await openLog(crashable.view(), options);
        model.confirmed = log.endOffset;
        model.confirmedPromise = model.promised;
        await checkMatches(log, model);
        break;
      case 'crash': {
        if (step.atSync !== undefined) {
          crashable.armCrashAtSync(step.atSync, step.torn ? random : undefined, 0.7);
          log.durable().catch(() => undefined);
          for (let turn = 0; turn < MAX_TURNS_TO_REACH_SYNC && crashable.crashes === 0; turn++)
            await yieldTurns(1);
        } else {
          await yieldTurns(step.turns);
        }
        crashable.disarm();
        const crashedAlready = crashable.crashes > 0;
        if (!crashedAlready || step.atSync === undefined)
          crashable.crash(step.torn ? random : undefined, 0.7);
        log = await openLog(crashable.view(), options);
        crashable.crashes = 0;
        // What durable() confirmed is still there, record for record.
        const recovered = await readAll(log, 50);
        expect(log.endOffset).toBeGreaterThanOrEqual(model.confirmed);
        const survivingConfirmed = model.records.filter(
          (entry) => entry.offset >= log.startOffset && entry.offset < model.confirmed,
        );
        expect(summary(recovered.slice(0, survivingConfirmed.length))).toEqual(summary(survivingConfirmed));
        expect(log.promisedEpoch).toBeGreaterThanOrEqual(model.confirmedPromise);
        expect(log.promisedEpoch).toBeLessThanOrEqual(model.promised);
        expect(log.epochHistory()).toEqual(historyOf(recovered));
        // From here on the recovered log is the replica's log.
        model.records = recovered;
        model.start = log.startOffset;
        model.confirmed = log.endOffset;
        model.promised = log.promisedEpoch;
        model.confirmedPromise = log.promisedEpoch;
        model.epoch = Math.max(model.epoch, log.lastEpoch);
        break;
      }
    }
    expect(log.endOffset).toBe(model.start + model.records.length);
    expect(log.durableOffset).toBeLessThanOrEqual(log.endOffset);
  }
  await log.close();
  const reopened = await openLog(crashable.view(), options);
  await checkMatches(reopened, model);
  await reopened.close();
}

describe('chain log durability (model test)', () => {
  it('keeps everything durable() confirmed across appends, truncations, retention, restarts at an offset, reopens and crashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 40 }), fc.integer(), runSteps),
      { numRuns: 80 },
    );
  });
});
