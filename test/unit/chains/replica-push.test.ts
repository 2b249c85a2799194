import { describe, expect, it } from 'vitest';
import { LEADER_RECENT_RECORDS_BYTES, RECORD_OVERHEAD_BYTES } from '../../../src/chains/replica-constants.js';
import type { ReplicaContext } from '../../../src/chains/replica-context.js';
import type { AppendMessage, ChainReplicaMessage } from '../../../src/chains/replica-messages.js';
import { FollowerProgress } from '../../../src/chains/replica-progress.js';
import { RecordPusher } from '../../../src/chains/replica-push.js';
import type { ChainEntry, ChainLog } from '../../../src/chains/types.js';
import type { NodeId } from '../../../src/lib/index.js';

/** The leader's kept records (`RecordPusher`): what it pushes from memory, what it reads back. */
const PAYLOAD = new Uint8Array(64 * 1024 - RECORD_OVERHEAD_BYTES);
const RECORDS_KEPT = Math.floor(LEADER_RECENT_RECORDS_BYTES / (PAYLOAD.byteLength + RECORD_OVERHEAD_BYTES));
const EPOCH = 1;
const FOLLOWER: NodeId = 2;

function entry(offset: number): ChainEntry {
  return { offset, epoch: EPOCH, kind: 'data', appendedAtMs: 0, payload: PAYLOAD };
}

/** A leader's context over a log of `end` records that only counts reads (records are not kept). */
function leaderContext(sent: ChainReplicaMessage[]) {
  const reads: number[] = [];
  const log = {
    startOffset: 0,
    endOffset: 0,
    epochHistory: () => [{ epoch: EPOCH, offset: 0 }],
    read: (fromOffset: number) => {
      reads.push(fromOffset);
      return new Promise<ChainEntry[]>(() => undefined);
    },
  };
  const context = {
    self: 1,
    chain: 'kept',
    log: log as unknown as ChainLog,
    clock: { nowMs: () => 0, wallMs: () => 0 },
    commitOffset: 0,
    send: (_peer: NodeId, message: ChainReplicaMessage) => sent.push(message),
  } as unknown as ReplicaContext;
  return { context, log, reads };
}

describe('RecordPusher', () => {
  it('pushes from the kept window as it slides over many windows of records, and reads back what fell out', () => {
    const sent: ChainReplicaMessage[] = [];
    const { context, log, reads } = leaderContext(sent);
    const pusher = new RecordPusher(context, EPOCH, () => false);
    pusher.resetRecent(0);
    // Appended one batch of 3 at a time, as a busy leader's turns do: the window slides (and its
    // storage is cut) many times over.
    const total = RECORDS_KEPT * 5 + 7;
    for (let offset = 0; offset < total; offset += 3) {
      const batch = Array.from({ length: Math.min(3, total - offset) }, (_, index) => entry(offset + index));
      pusher.remember(batch);
      log.endOffset = offset + batch.length;
    }
    const oldestKept = total - RECORDS_KEPT;
    for (const from of [oldestKept, oldestKept + 1, total - 10, total - 1]) {
      sent.length = 0;
      pusher.push(new FollowerProgress(FOLLOWER, false, from, 0, 0), 0);
      expect(sent).toHaveLength(1);
      const message = sent[0] as AppendMessage;
      expect(message.fromOffset).toBe(from);
      expect(message.entries.length).toBeGreaterThan(0);
      expect(message.entries.map((record) => record.offset)).toEqual(
        Array.from({ length: message.entries.length }, (_, index) => from + index),
      );
    }
    expect(reads).toEqual([]);
    sent.length = 0;
    pusher.push(new FollowerProgress(FOLLOWER, false, oldestKept - 1, 0, 0), 0);
    expect(sent).toEqual([]);
    expect(reads).toEqual([oldestKept - 1]);
  });

  it('keeps the window within LEADER_RECENT_RECORDS_BYTES but always the newest record', () => {
    const sent: ChainReplicaMessage[] = [];
    const { context, log, reads } = leaderContext(sent);
    const pusher = new RecordPusher(context, EPOCH, () => false);
    pusher.resetRecent(10);
    const huge: ChainEntry = { ...entry(10), payload: new Uint8Array(LEADER_RECENT_RECORDS_BYTES) };
    pusher.remember([huge]);
    pusher.remember([{ ...huge, offset: 11 }]);
    log.endOffset = 12;
    pusher.push(new FollowerProgress(FOLLOWER, false, 11, 0, 0), 0);
    expect((sent[0] as AppendMessage).entries.map((record) => record.offset)).toEqual([11]);
    pusher.push(new FollowerProgress(FOLLOWER, false, 10, 0, 0), 0);
    expect(reads).toEqual([10]);
  });
});
