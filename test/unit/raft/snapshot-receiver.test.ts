import { describe, expect, it } from 'vitest';
import type { SnapshotChunk } from '../../../src/raft/index.js';
import { SnapshotReceiver } from '../../../src/raft/snapshot-receiver.js';

const metadata = { index: 10, term: 3, config: { voters: [1, 2, 3], learners: [], outgoingVoters: [] } };
const data = Uint8Array.from({ length: 10 }, (_, index) => index);

function chunk(offset: number, length: number, totalBytes = data.length): SnapshotChunk {
  return {
    type: 'snapshot',
    from: 1,
    to: 2,
    term: 3,
    metadata,
    offset,
    totalBytes,
    data: data.subarray(offset, offset + length),
  };
}

describe('SnapshotReceiver', () => {
  it('accepts in-order chunks (for the host to write) and completes with the size of the snapshot', () => {
    const receiver = new SnapshotReceiver();
    expect(receiver.accept(chunk(0, 4))).toEqual({ kind: 'partial', nextOffset: 4, accepted: true });
    expect(receiver.accept(chunk(4, 4))).toEqual({ kind: 'partial', nextOffset: 8, accepted: true });
    expect(receiver.accept(chunk(8, 2))).toEqual({ kind: 'complete', info: { metadata, byteLength: 10 } });
  });

  it('ignores duplicates and gaps, answering with the offset it holds', () => {
    const receiver = new SnapshotReceiver();
    receiver.accept(chunk(0, 4));
    expect(receiver.accept(chunk(0 + 8, 2))).toEqual({ kind: 'partial', nextOffset: 4, accepted: false });
    expect(receiver.accept(chunk(4, 4))).toEqual({ kind: 'partial', nextOffset: 8, accepted: true });
    expect(receiver.accept(chunk(4, 4))).toEqual({ kind: 'partial', nextOffset: 8, accepted: false });
    expect(receiver.accept(chunk(8, 2)).kind).toBe('complete');
  });

  it('asks to start over when it holds nothing, and refuses chunks that overrun the snapshot', () => {
    const receiver = new SnapshotReceiver();
    expect(receiver.accept(chunk(4, 4))).toEqual({ kind: 'partial', nextOffset: 0, accepted: false });
    expect(receiver.accept(chunk(0, 10, 5))).toEqual({ kind: 'partial', nextOffset: 0, accepted: false });
  });

  it('accepts an empty snapshot in one empty chunk', () => {
    const receiver = new SnapshotReceiver();
    expect(receiver.accept(chunk(0, 0, 0)).kind).toBe('complete');
  });
});
