import { describe, expect, it } from 'vitest';
import type { ChainReplicaMessage } from '../../../src/chains/index.js';
import type { ReplicaContext } from '../../../src/chains/replica-context.js';
import { FollowerAcks } from '../../../src/chains/replica-follower-acks.js';
import { ManualClock, type NodeId } from '../../../src/lib/index.js';

const LEADER: NodeId = 1;

/** A follower's context whose durability waits are answered by hand and whose end of turn never comes. */
function followerContext() {
  const waits: ((durableOffset: number) => void)[] = [];
  const sent: ChainReplicaMessage[] = [];
  const log = { promisedEpoch: 3 };
  const context = {
    self: 2,
    chain: 'c',
    log,
    clock: new ManualClock(),
    commitOffset: 0,
    send: (_peer: NodeId, message: ChainReplicaMessage) => sent.push(message),
    advanceCommit: () => {},
    truncated: () => {},
    whenDurable: (then: (durableOffset: number) => void) => waits.push(then),
    logFailed: () => {},
    atEndOfTurn: () => {},
    suspect: () => {},
  } as unknown as ReplicaContext;
  /** Answers the oldest wait with `durableOffset`. */
  const durable = (durableOffset: number) => (waits.shift() as (offset: number) => void)(durableOffset);
  return { context, waits, sent, log, durable };
}

function acks(sent: readonly ChainReplicaMessage[]): [number, number][] {
  return sent.flatMap((message) =>
    message.type === 'appendAck' ? [[message.matchEnd, message.echoMs]] : [],
  );
}

describe('FollowerAcks', () => {
  it('starts the wait for durability as records are taken, not at the end of the turn', () => {
    const { context, waits, sent, durable } = followerContext();
    const followerAcks = new FollowerAcks(context);
    followerAcks.owe(LEADER, 3, 10, 100);
    expect(waits).toHaveLength(1);
    durable(10);
    expect(acks(sent)).toEqual([[10, 100]]);
    expect(waits).toHaveLength(0);
  });

  it('keeps one wait in flight: records taken meanwhile share the next, answered with one ack', () => {
    const { context, waits, sent, durable } = followerContext();
    const followerAcks = new FollowerAcks(context);
    followerAcks.owe(LEADER, 3, 10, 100);
    followerAcks.owe(LEADER, 3, 15, 110);
    followerAcks.owe(LEADER, 3, 20, 120);
    expect(waits).toHaveLength(1);
    // The sync in flight covered the first records only: the ack says so, the next wait starts.
    durable(10);
    expect(acks(sent)).toEqual([[10, 120]]);
    expect(waits).toHaveLength(1);
    durable(20);
    expect(acks(sent)).toEqual([
      [10, 120],
      [20, 120],
    ]);
    expect(waits).toHaveLength(0);
  });

  it('needs no second wait when the sync in flight covered the records taken meanwhile', () => {
    const { context, waits, sent, durable } = followerContext();
    const followerAcks = new FollowerAcks(context);
    followerAcks.owe(LEADER, 3, 10, 100);
    followerAcks.owe(LEADER, 3, 20, 110);
    durable(20);
    expect(acks(sent)).toEqual([[20, 110]]);
    expect(waits).toHaveLength(0);
  });

  it('answers nothing once a newer epoch was promised, and starts afresh for it', () => {
    const { context, waits, sent, log, durable } = followerContext();
    const followerAcks = new FollowerAcks(context);
    followerAcks.owe(LEADER, 3, 10, 100);
    log.promisedEpoch = 4;
    durable(10);
    expect(sent).toEqual([]);
    followerAcks.owe(3, 4, 12, 200);
    expect(waits).toHaveLength(1);
    durable(12);
    expect(sent).toEqual([{ type: 'appendAck', chain: 'c', epoch: 4, matchEnd: 12, echoMs: 200 }]);
  });
});
