/** fast-check values of every Raft message type (the codec's property tests and the fuzzers). */
import fc from 'fast-check';
import type { ClusterConfig, Entry, Message } from '../../../src/raft/index.js';

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

export const raftMessageArbitrary: fc.Arbitrary<Message> = fc.oneof(
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
  fc
    .tuple(header, small, small, count, fc.boolean())
    .chain(([h, prevIndex, prevTerm, commit, answerOnlyIfRefused]) =>
      entries(prevIndex).map((items) => ({
        ...h,
        type: 'append' as const,
        prevIndex,
        prevTerm,
        commit,
        entries: items,
        ...(answerOnlyIfRefused ? { answerOnlyIfRefused } : {}),
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
