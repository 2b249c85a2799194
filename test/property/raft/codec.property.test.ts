import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import {
  type ClusterConfig,
  decodeConfigChange,
  decodeMessage,
  type Entry,
  encodeConfigChange,
  encodeMessage,
  type Message,
} from '../../../src/raft/index.js';

const node = fc.integer({ min: 1, max: 2 ** 31 });
const count = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const small = fc.nat({ max: 1_000_000 });
const text = fc.string({ maxLength: 40 });
const data = fc.uint8Array({ maxLength: 64 });
const header = fc.record({ from: node, to: node, term: count });
const config: fc.Arbitrary<ClusterConfig> = fc.record({
  voters: fc.array(node, { maxLength: 5 }),
  learners: fc.array(node, { maxLength: 3 }),
  outgoingVoters: fc.array(node, { maxLength: 5 }),
});
const entries = (prevIndex: number): fc.Arbitrary<Entry[]> =>
  fc
    .array(fc.record({ term: small, kind: fc.constantFrom('normal', 'config', 'noop' as const), data }), {
      maxLength: 5,
    })
    .map((items) => items.map((item, position) => ({ ...item, index: prevIndex + position + 1 })));

const message: fc.Arbitrary<Message> = fc.oneof(
  fc
    .tuple(header, fc.constantFrom('vote', 'preVote' as const), count, count, fc.boolean())
    .map(([h, type, lastLogIndex, lastLogTerm, transfer]) => ({
      ...h,
      type,
      lastLogIndex,
      lastLogTerm,
      transfer,
    })),
  fc
    .tuple(header, fc.constantFrom('voteResponse', 'preVoteResponse' as const), fc.boolean())
    .map(([h, type, granted]) => ({ ...h, type, granted })),
  fc.tuple(header, small, small, count).chain(([h, prevIndex, prevTerm, commit]) =>
    entries(prevIndex).map((items) => ({
      ...h,
      type: 'append' as const,
      prevIndex,
      prevTerm,
      commit,
      entries: items,
    })),
  ),
  fc
    .tuple(header, fc.boolean(), count, count, count)
    .map(([h, success, index, conflictTerm, conflictIndex]) => ({
      ...h,
      type: 'appendResponse' as const,
      success,
      index,
      conflictTerm,
      conflictIndex,
    })),
  fc.tuple(header, count, text, count).map(([h, commit, context, sentTick]) => ({
    ...h,
    type: 'heartbeat' as const,
    commit,
    context,
    sentTick,
  })),
  fc
    .tuple(header, text, count)
    .map(([h, context, sentTick]) => ({ ...h, type: 'heartbeatResponse' as const, context, sentTick })),
  fc.tuple(header, count, count, config, small, data).map(([h, index, term, cluster, offset, chunk]) => ({
    ...h,
    type: 'snapshot' as const,
    metadata: { index, term, config: cluster },
    offset,
    totalBytes: offset + chunk.length + 10,
    data: chunk,
  })),
  fc
    .tuple(header, count, count)
    .map(([h, index, nextOffset]) => ({ ...h, type: 'snapshotResponse' as const, index, nextOffset })),
  header.map((h) => ({ ...h, type: 'timeoutNow' as const })),
  fc
    .tuple(header, fc.string({ minLength: 1, maxLength: 40 }))
    .map(([h, requestId]) => ({ ...h, type: 'readIndex' as const, requestId })),
  fc.tuple(header, text, count, fc.boolean()).map(([h, requestId, index, success]) => ({
    ...h,
    type: 'readIndexResponse' as const,
    requestId,
    index,
    success,
  })),
);

function expectBadMessageOrValid(bytes: Uint8Array): void {
  try {
    const decoded = decodeMessage(bytes);
    // Whatever decodes must encode back to the same bytes (the encoding is canonical).
    expect(encodeMessage(decoded)).toEqual(bytes);
  } catch (error) {
    expect(isMeshError(error, 'BAD_MESSAGE')).toBe(true);
  }
}

describe('message codec', () => {
  it('decode(encode(message)) is the message', () => {
    fc.assert(
      fc.property(message, (original) => {
        expect(decodeMessage(encodeMessage(original))).toEqual(original);
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes either decode canonically or throw BAD_MESSAGE, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), expectBadMessageOrValid), { numRuns: 2000 });
  });

  it('truncated and bit-flipped messages throw BAD_MESSAGE or decode canonically', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.nat({ max: 7 }), (original, position, bit) => {
        const bytes = encodeMessage(original);
        expectBadMessageOrValid(bytes.subarray(0, position % bytes.length));
        const flipped = bytes.slice();
        flipped[position % bytes.length]! ^= 1 << bit;
        expectBadMessageOrValid(flipped);
      }),
      { numRuns: 1000 },
    );
  });

  it('a huge declared length is refused before any allocation', () => {
    // version 1, append, from 1, to 2, term 1, prev 0/0, commit 0, then 2^40 entries.
    const bytes = Uint8Array.of(1, 4, 1, 2, 1, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20);
    expect(() => decodeMessage(bytes)).toThrow(/exceeds the remaining bytes/);
  });
});

describe('config change codec', () => {
  it('round-trips every kind of change', () => {
    const changes = [
      { type: 'addLearner', node: 4 },
      { type: 'removeLearner', node: 4 },
      { type: 'promoteLearner', node: 7 },
      { type: 'changeVoters', add: [4, 5], remove: [1] },
      { type: 'leaveJoint' },
    ] as const;
    for (const change of changes) expect(decodeConfigChange(encodeConfigChange(change))).toEqual(change);
    expect(() => decodeConfigChange(Uint8Array.of(9))).toThrow(/malformed/);
  });
});
