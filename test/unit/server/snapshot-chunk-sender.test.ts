import { describe, expect, it } from 'vitest';
import type { SnapshotChunk, SnapshotChunkRead } from '../../../src/raft/index.js';
import { SnapshotChunkSender } from '../../../src/server/snapshot-chunk-sender.js';

const METADATA = { index: 40, term: 3, config: { voters: [1, 2], learners: [], outgoingVoters: [] } };
const FILE = Uint8Array.from({ length: 100 }, (_, index) => index);

function chunkRead(to: number, offset: number, length = 10): SnapshotChunkRead {
  return { from: 1, to, term: 3, metadata: METADATA, offset, length, totalBytes: FILE.byteLength };
}

/** Reads answered by hand, in any order, from `FILE`; or failed. */
class ManualReads {
  readonly pending: Array<{ offset: number; length: number; settle: (fail: boolean) => void }> = [];
  readonly sent: SnapshotChunk[] = [];
  readonly failures: Array<{ to: number; offset: number }> = [];

  readonly sender = new SnapshotChunkSender({
    read: (_index, offset, length) =>
      new Promise((resolve, reject) => {
        this.pending.push({
          offset,
          length,
          settle: (fail) => (fail ? reject(new Error('gone')) : resolve(FILE.slice(offset, offset + length))),
        });
      }),
    send: (chunk) => this.sent.push(chunk),
    failed: (read) => this.failures.push({ to: read.to, offset: read.offset }),
  });

  async settleFirst(fail = false): Promise<void> {
    this.pending.shift()?.settle(fail);
    // The read's callbacks and the start of the next read run in later microtasks.
    for (let turn = 0; turn < 5; turn++) await Promise.resolve();
  }
}

describe('SnapshotChunkSender', () => {
  it('sends each chunk with the bytes read for it', async () => {
    const reads = new ManualReads();
    reads.sender.request(chunkRead(2, 20));
    await reads.settleFirst();
    expect(reads.sent).toEqual([
      {
        type: 'snapshot',
        from: 1,
        to: 2,
        term: 3,
        metadata: METADATA,
        offset: 20,
        totalBytes: 100,
        data: FILE.slice(20, 30),
      },
    ]);
  });

  it('reads one chunk per follower at a time; the newest request made meanwhile waits, older ones are dropped', async () => {
    const reads = new ManualReads();
    reads.sender.request(chunkRead(2, 0));
    reads.sender.request(chunkRead(3, 0));
    reads.sender.request(chunkRead(2, 10));
    reads.sender.request(chunkRead(2, 20));
    expect(reads.pending.map((read) => read.offset)).toEqual([0, 0]);
    await reads.settleFirst();
    expect(reads.pending.map((read) => read.offset)).toEqual([0, 20]);
    await reads.settleFirst();
    await reads.settleFirst();
    expect(reads.pending).toEqual([]);
    expect(reads.sent.map((chunk) => [chunk.to, chunk.offset])).toEqual([
      [2, 0],
      [3, 0],
      [2, 20],
    ]);
  });

  it('reports a read that failed and goes on with the next one', async () => {
    const reads = new ManualReads();
    reads.sender.request(chunkRead(2, 0));
    reads.sender.request(chunkRead(2, 10));
    await reads.settleFirst(true);
    expect(reads.failures).toEqual([{ to: 2, offset: 0 }]);
    await reads.settleFirst();
    expect(reads.sent.map((chunk) => chunk.offset)).toEqual([10]);
  });
});
