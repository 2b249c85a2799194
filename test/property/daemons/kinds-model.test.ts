import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CounterDaemon,
  counterKind,
  decodeJournalState,
  type JournalDaemon,
  journalKind,
} from '../../../src/daemons/index.js';
import { isMeshError } from '../../../src/lib/index.js';
import { context, textDecoder, textEncoder, texts } from '../../unit/daemons/fixtures.js';

type Step = { readonly type: 'event'; readonly text: string } | { readonly type: 'move' };

/** Integers, near-integers and junk, with a move to a fresh member (snapshot, restore) now and then. */
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .integer({ min: -1_000_000, max: 1_000_000 })
      .map((value) => ({ type: 'event' as const, text: String(value) })),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 6 }).map((text) => ({ type: 'event' as const, text })) },
  { weight: 1, arbitrary: fc.constant({ type: 'move' as const }) },
);

function refusedWith(run: () => unknown, code: string): boolean {
  try {
    run();
    return false;
  } catch (error) {
    if (isMeshError(error, code)) return true;
    throw error;
  }
}

describe('built-in kinds against a model', () => {
  it('a counter moved between members at any point sums exactly the integer payloads', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 60 }), (steps) => {
        let daemon = counterKind.create(undefined, context()) as CounterDaemon;
        let events = 0;
        let sum = 0;
        for (const step of steps) {
          if (step.type === 'move') {
            const next = counterKind.create(undefined, context('d1', 1)) as CounterDaemon;
            next.restore(daemon.snapshot());
            daemon = next;
            continue;
          }
          const integer = /^-?[0-9]{1,16}$/.test(step.text);
          if (!integer) {
            expect(
              refusedWith(
                () => daemon.process({ payload: textEncoder.encode(step.text) }),
                'DAEMON_PAYLOAD_INVALID',
              ),
            ).toBe(true);
            continue;
          }
          events += 1;
          sum += Number(step.text);
          expect(texts(daemon.process({ payload: textEncoder.encode(step.text) }))).toEqual([String(sum)]);
        }
        expect(daemon.state()).toEqual({ events, sum });
      }),
    );
  });

  it('a journal moved between members at any point reads back every payload in order', () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { maxLength: 60 }),
        fc.integer({ min: 1, max: 40 }),
        (steps, maxEntries) => {
          let daemon = journalKind.create({ maxEntries }, context()) as JournalDaemon;
          const kept: string[] = [];
          for (const step of steps) {
            if (step.type === 'move') {
              const next = journalKind.create({ maxEntries }, context('d1', 1)) as JournalDaemon;
              next.restore(daemon.snapshot());
              daemon = next;
              continue;
            }
            const payload = { payload: textEncoder.encode(step.text) };
            if (kept.length === maxEntries) {
              expect(refusedWith(() => daemon.process(payload), 'DAEMON_JOURNAL_FULL')).toBe(true);
              continue;
            }
            expect(texts(daemon.process(payload))).toEqual([String(kept.length)]);
            kept.push(step.text);
          }
          expect(decodeJournalState(daemon.snapshot()).map((payload) => textDecoder.decode(payload))).toEqual(
            kept,
          );
        },
      ),
    );
  });
});
