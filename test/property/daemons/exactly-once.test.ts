import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AppliedEvent,
  type DaemonKind,
  ExactlyOnceApplier,
  type ExactlyOnceApplierOptions,
  type InboundEventRecord,
} from '../../../src/daemons/index.js';
import { ManualClock, type MeshError } from '../../../src/lib/index.js';
import { context, ScriptedDaemon, textDecoder, textEncoder } from '../../unit/daemons/fixtures.js';

const MAX_CLIENTS = 3;
const scriptedKind: DaemonKind = {
  name: 'scripted',
  create: (_config, kindContext) => new ScriptedDaemon(kindContext.daemonName),
};

type Step =
  | { readonly type: 'send'; readonly client: number; readonly advance: number; readonly fails: boolean }
  | { readonly type: 'plain'; readonly fails: boolean }
  | { readonly type: 'move' };

/** advance: 1 is the next sequence, 0 a retry of the last, -1 a stale one; higher skips ahead. */
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant('send' as const),
      client: fc.nat(4),
      advance: fc.integer({ min: -1, max: 3 }),
      fails: fc.integer({ min: 0, max: 9 }).map((value) => value < 2),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('plain' as const), fails: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ type: 'move' as const }) },
);

function options(): ExactlyOnceApplierOptions {
  return {
    kind: scriptedKind,
    config: undefined,
    context: context(),
    clock: new ManualClock(),
    dedupLimits: { maxClients: MAX_CLIENTS, maxBytes: 1 << 20 },
  };
}

type Answer = AppliedEvent | MeshError;

async function answerOf(
  applier: ExactlyOnceApplier,
  next: InboundEventRecord,
  offset: number,
): Promise<Answer> {
  try {
    return await applier.apply(next, offset);
  } catch (error) {
    return error as MeshError;
  }
}

/** An answer as the two appliers must agree on it: the error's code, or the outputs as text. */
function comparable(answer: Answer): unknown {
  if ('code' in answer) return answer.code;
  return { ...answer, outputs: answer.outputs.map((output) => textDecoder.decode(output)) };
}

describe('exactly-once appliers against a model', () => {
  it('apply each (client, sequence) once, answer retries with the first answer, and agree after moves', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { maxLength: 80 }), async (steps) => {
        const continuous = ExactlyOnceApplier.create(options());
        let moved = ExactlyOnceApplier.create(options());
        const sequences = new Map<number, number>();
        // The model: what is applied, each client's last sequence and answer, recency for eviction.
        const applied: string[] = [];
        const last = new Map<
          number,
          { sequence: number; inboundOffset: number; answer: string | undefined }
        >();
        let offset = 0;
        /** The model applies a new event: a failing one changes nothing. */
        const applyNew = (fails: boolean, text: string, at: number): AppliedEvent | 'failed' => {
          if (fails) return 'failed';
          applied.push(text);
          return {
            inboundOffset: at,
            duplicate: false,
            outputs: [textEncoder.encode(`seen:${applied.length}`)],
          };
        };
        for (const step of steps) {
          if (step.type === 'move') {
            moved = ExactlyOnceApplier.restore(options(), moved.snapshot());
            continue;
          }
          const text = step.fails ? 'throw' : `e${offset}`;
          let next: InboundEventRecord = { epoch: 1, payload: textEncoder.encode(text) };
          let expected: AppliedEvent | 'failed' | 'stale';
          if (step.type === 'send') {
            const sequence = Math.max(0, (sequences.get(step.client) ?? 0) + step.advance);
            sequences.set(step.client, Math.max(sequence, sequences.get(step.client) ?? 0));
            next = { ...next, clientId: `c${step.client}`, sequence };
            const previous = last.get(step.client);
            if (previous !== undefined && sequence === previous.sequence) {
              expected =
                previous.answer === undefined
                  ? 'failed'
                  : {
                      inboundOffset: previous.inboundOffset,
                      duplicate: true,
                      outputs: [textEncoder.encode(previous.answer)],
                    };
            } else if (previous !== undefined && sequence < previous.sequence) {
              expected = 'stale';
            } else {
              expected = applyNew(step.fails, text, offset);
              last.delete(step.client);
              last.set(step.client, {
                sequence,
                inboundOffset: offset,
                answer: step.fails ? undefined : `seen:${applied.length}`,
              });
              if (last.size > MAX_CLIENTS) last.delete(last.keys().next().value as number);
            }
          } else {
            expected = applyNew(step.fails, text, offset);
          }
          const first = await answerOf(continuous, next, offset);
          const second = await answerOf(moved, next, offset);
          expect(comparable(second)).toEqual(comparable(first));
          if (expected === 'failed') expect(comparable(first)).toBe('DAEMON_PROCESS_FAILED');
          else if (expected === 'stale') expect(comparable(first)).toBe('DAEMON_SEQUENCE_STALE');
          else expect(comparable(first)).toEqual(comparable(expected));
          offset += 1;
        }
        const states = [continuous.state(), moved.state()].map(
          (state) => JSON.parse(textDecoder.decode(state)) as string[],
        );
        expect(states[0]).toEqual(applied);
        expect(states[1]).toEqual(applied);
        expect(moved.dedupEntries()).toEqual(continuous.dedupEntries());
      }),
      { numRuns: 150 },
    );
  });
});
