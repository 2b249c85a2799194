/** fast-check values of every chain replica message type (the codec's property tests and the fuzzers). */
import fc from 'fast-check';
import type { ChainReplicaMessage } from '../../../src/chains/index.js';

const count = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const small = fc.nat({ max: 1_000_000 });
const chain = fc.string({ maxLength: 40 });
const header = fc.record({ chain, epoch: count });
const entries = (fromOffset: number) =>
  fc
    .array(
      fc.record({
        epoch: small,
        kind: fc.constantFrom('data', 'epoch-start' as const),
        appendedAtMs: count,
        payload: fc.uint8Array({ maxLength: 64 }),
      }),
      { maxLength: 5 },
    )
    .map((items) => items.map((item, index) => ({ ...item, offset: fromOffset + index })));
const divergence = fc.record({ resumeOffset: small, conflictEpoch: small });

export const chainReplicaMessageArbitrary: fc.Arbitrary<ChainReplicaMessage> = fc.oneof(
  fc.tuple(header, count).map(([h, sentAtMs]) => ({ type: 'claim' as const, ...h, sentAtMs })),
  fc
    .tuple(
      header,
      small,
      small,
      small,
      fc.array(fc.record({ epoch: small, offset: small }), { maxLength: 64 }),
    )
    .map(([h, startOffset, endOffset, lastEpoch, historyTail]) => ({
      type: 'claimAck' as const,
      ...h,
      startOffset,
      endOffset,
      lastEpoch,
      historyTail,
      echoMs: lastEpoch * 7,
    })),
  fc
    .tuple(header, count)
    .map(([h, promisedEpoch]) => ({ type: 'epochRefused' as const, ...h, promisedEpoch })),
  fc.tuple(header, small, small, count).chain(([h, fromOffset, prevEpoch, commitOffset]) =>
    entries(fromOffset).map((items) => ({
      type: 'append' as const,
      ...h,
      fromOffset,
      prevEpoch,
      commitOffset,
      sentAtMs: commitOffset,
      entries: items,
    })),
  ),
  fc
    .tuple(header, count, count)
    .map(([h, matchEnd, echoMs]) => ({ type: 'appendAck' as const, ...h, matchEnd, echoMs })),
  fc.tuple(header, small, count, divergence).map(([h, fromOffset, echoMs, d]) => ({
    type: 'appendRefused' as const,
    ...h,
    fromOffset,
    echoMs,
    ...d,
  })),
  fc
    .tuple(header, small, small)
    .map(([h, fromOffset, prevEpoch]) => ({ type: 'fetch' as const, ...h, fromOffset, prevEpoch })),
  fc.tuple(header, small, fc.option(divergence, { nil: undefined })).chain(([h, fromOffset, d]) =>
    entries(fromOffset).map((items) => ({
      type: 'fetchReply' as const,
      ...h,
      fromOffset,
      divergence: d,
      entries: items,
    })),
  ),
);
