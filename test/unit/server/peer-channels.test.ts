import { describe, expect, it } from 'vitest';
import { isMeshError, ManualClock, PEER_CHANNEL } from '../../../src/lib/index.js';
import type { NodeId } from '../../../src/raft/index.js';
import {
  FORWARD_TIMEOUT_MS,
  LEADER_RETRY_PAUSE_MS,
  type LeaderInfo,
  LeaderWait,
  neverProposed,
  PeerChannels,
  type PeerDatagrams,
} from '../../../src/server/index.js';
import { track } from './promise-state.js';

/** Datagrams that record what is sent and let the test play the peers and the transport. */
class FakeDatagrams implements PeerDatagrams {
  readonly sent: { peer: NodeId; payload: Uint8Array }[] = [];
  private messageHandler: (from: NodeId, payload: Uint8Array) => void = () => {};
  private readonly lostHandlers: Array<(peer: NodeId) => void> = [];

  send(peer: NodeId, payload: Uint8Array): boolean {
    this.sent.push({ peer, payload });
    return true;
  }

  onMessage(handler: (from: NodeId, payload: Uint8Array) => void): void {
    this.messageHandler = handler;
  }

  onUnreachable(): void {}

  onPeerLost(handler: (peer: NodeId) => void): void {
    this.lostHandlers.push(handler);
  }

  deliver(from: NodeId, payload: Uint8Array): void {
    this.messageHandler(from, payload);
  }

  lose(peer: NodeId): void {
    for (const handler of this.lostHandlers) handler(peer);
  }

  /** Answers the request sent as `sent[index]` with `body`, as the peer's channels would. */
  answer(index: number, body: Uint8Array): void {
    const request = this.sent[index];
    if (request === undefined) throw new Error(`nothing sent at ${index}`);
    this.messageHandler(request.peer, answerFrame(request.payload, body));
  }
}

/** Datagrams over a transport that tells which peers' connections are lost and not up again. */
class TellingDatagrams extends FakeDatagrams {
  readonly lostConnections = new Set<NodeId>();

  connectionLost(peer: NodeId): boolean {
    return this.lostConnections.has(peer);
  }
}

/** The response frame that answers `request` (a frame `PeerChannels` sent) with `body`. */
function answerFrame(request: Uint8Array, body: Uint8Array): Uint8Array {
  const response = new Uint8Array(10 + body.byteLength);
  response[0] = 2; // the response channel
  response.set(request.subarray(1, 9), 1); // the 64-bit request id
  response[9] = 0; // ok
  response.set(body, 10);
  return response;
}

async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await Promise.resolve();
}

describe('PeerChannels', () => {
  it('fails requests forwarded to a peer at once when its connection is lost, and only those', async () => {
    const clock = new ManualClock();
    const datagrams = new FakeDatagrams();
    const channels = new PeerChannels(datagrams, clock);
    const toOne = track(channels.request(1, new Uint8Array([7])));
    const toTwo = track(channels.request(2, new Uint8Array([8])));

    datagrams.lose(1);
    await settle();
    // No time passed: the request did not wait for FORWARD_TIMEOUT_MS.
    expect(toOne.outcome).toBe('rejected');
    expect(isMeshError(toOne.error, 'UNAVAILABLE')).toBe(true);
    expect(toTwo.outcome).toBe('pending');

    datagrams.answer(1, new Uint8Array([9]));
    await settle();
    expect(toTwo.outcome).toBe('resolved');
  });

  it('refuses a request it cannot send with LEADER_UNREACHABLE: never sent, safe to retry', async () => {
    const datagrams = new FakeDatagrams();
    datagrams.send = () => false;
    const channels = new PeerChannels(datagrams, new ManualClock());
    const request = track(channels.request(1, new Uint8Array([7])));
    await settle();
    expect(request.outcome).toBe('rejected');
    expect(isMeshError(request.error, 'LEADER_UNREACHABLE')).toBe(true);
  });

  it('checks every request in flight against its deadline with one timer', async () => {
    const clock = new ManualClock();
    const channels = new PeerChannels(new FakeDatagrams(), clock);
    const requests = Array.from({ length: 50 }, (_, index) =>
      track(channels.request(1, new Uint8Array([index]))),
    );
    expect(clock.pendingTimerCount()).toBe(1);
    clock.advance(FORWARD_TIMEOUT_MS);
    await settle();
    expect(requests.every((request) => request.outcome === 'rejected')).toBe(true);
    // Nothing left in flight: the sweep stops rescheduling itself.
    clock.advance(1_000);
    expect(clock.pendingTimerCount()).toBe(0);
  });

  it('without a loss a request still waits for its answer until the forward timeout', async () => {
    const clock = new ManualClock();
    const channels = new PeerChannels(new FakeDatagrams(), clock);
    const request = track(channels.request(1, new Uint8Array([7])));
    clock.advance(FORWARD_TIMEOUT_MS - 1);
    await settle();
    expect(request.outcome).toBe('pending');
    clock.advance(1);
    await settle();
    expect(request.outcome).toBe('rejected');
    expect(isMeshError(request.error, 'TIMEOUT')).toBe(true);
  });

  it('passes the peer-lost signal on to the Raft link', () => {
    const datagrams = new FakeDatagrams();
    const link = new PeerChannels(datagrams, new ManualClock()).raftLink();
    const lost: NodeId[] = [];
    link.onPeerLost?.((peer) => lost.push(peer));
    datagrams.lose(3);
    expect(lost).toEqual([3]);
  });

  it('frames a Raft message in place, in the bytes it was given, as send frames a copy', () => {
    const datagrams = new FakeDatagrams();
    const sender = new PeerChannels(datagrams, new ManualClock()).raftLink();
    const inPlace = sender.inPlace!;
    const message = [5, 6, 7];
    // Headroom the sender left dirty is overwritten with the channel's header.
    const bytes = new Uint8Array([...new Array(inPlace.headroomBytes).fill(0xee), ...message]);
    expect(inPlace.send(2, bytes)).toBe(true);
    expect(sender.send(2, new Uint8Array(message))).toBe(true);
    const [framedInPlace, framedCopy] = datagrams.sent;
    expect(framedInPlace?.payload).toBe(bytes);
    expect([...framedInPlace!.payload]).toEqual([...framedCopy!.payload]);

    const receiving = new FakeDatagrams();
    const received: number[][] = [];
    new PeerChannels(receiving, new ManualClock()).raftLink().onMessage((_from, payload) => {
      received.push([...payload]);
    });
    receiving.deliver(1, bytes);
    expect(received).toEqual([message]);
  });

  it('gives a channel link its own messages without the channel byte, and its peer losses', () => {
    const datagrams = new FakeDatagrams();
    const channels = new PeerChannels(datagrams, new ManualClock());
    const link = channels.link(PEER_CHANNEL.chains);
    const received: { from: NodeId; payload: number[] }[] = [];
    link.onMessage((from, payload) => received.push({ from, payload: [...payload] }));
    const lost: NodeId[] = [];
    link.onPeerLost((peer) => lost.push(peer));
    // A reopened link replaces its handler instead of adding a second one.
    link.onPeerLost((peer) => lost.push(peer * 10));

    expect(link.send(2, new Uint8Array([9, 8]))).toBe(true);
    expect([...datagrams.sent[0]!.payload]).toEqual([PEER_CHANNEL.chains, 9, 8]);
    datagrams.deliver(5, new Uint8Array([PEER_CHANNEL.chains, 1, 2, 3]));
    // Another channel's message does not reach it.
    datagrams.deliver(5, new Uint8Array([PEER_CHANNEL.proximity, 4]));
    expect(received).toEqual([{ from: 5, payload: [1, 2, 3] }]);
    datagrams.lose(4);
    expect(lost).toEqual([40]);
  });

  it('refuses a request to a peer whose connection is lost, unsent, with LEADER_UNREACHABLE until it is up again; its links tell the same', async () => {
    const datagrams = new TellingDatagrams();
    const channels = new PeerChannels(datagrams, new ManualClock());
    const link = channels.link(PEER_CHANNEL.chains);
    datagrams.lostConnections.add(1);
    datagrams.lose(1);

    const whileDown = track(channels.request(1, new Uint8Array([7])));
    await settle();
    // Never proposed, so a follower's put waits for the next leader (LeaderWait retries it).
    expect(whileDown.outcome).toBe('rejected');
    expect(isMeshError(whileDown.error, 'LEADER_UNREACHABLE')).toBe(true);
    expect(datagrams.sent).toHaveLength(0);
    expect(link.connectionLost?.(1)).toBe(true);
    expect(link.connectionLost?.(2)).toBe(false);

    datagrams.lostConnections.delete(1);
    const afterReturn = track(channels.request(1, new Uint8Array([8])));
    expect(datagrams.sent).toHaveLength(1);
    expect(link.connectionLost?.(1)).toBe(false);
    datagrams.answer(0, new Uint8Array([9]));
    await settle();
    expect(afterReturn.outcome).toBe('resolved');
  });

  it("a follower's put forwarded to a leader whose connection is lost waits for the next leader and is served there", async () => {
    const clock = new ManualClock();
    const datagrams = new TellingDatagrams();
    const channels = new PeerChannels(datagrams, clock);
    let leader: LeaderInfo = { leaderId: 1, term: 1 };
    const wait = new LeaderWait(clock, () => leader);
    datagrams.lostConnections.add(1);
    datagrams.lose(1);
    // As RaftKvBackend proposes through a follower: refusals that prove it was never proposed are retried.
    const put = track(
      wait.run((known) => channels.request(known.leaderId, new Uint8Array([7])), neverProposed, 2_000),
    );
    await settle();
    clock.advance(LEADER_RETRY_PAUSE_MS);
    await settle();
    // Tried again against the same leader, refused again, nothing queued for it: still waiting.
    expect(put.outcome).toBe('pending');
    expect(datagrams.sent).toHaveLength(0);

    leader = { leaderId: 2, term: 2 };
    wait.leaderChanged(leader);
    await settle();
    expect(datagrams.sent.map((sent) => sent.peer)).toEqual([2]);
    datagrams.answer(0, new Uint8Array([9]));
    await settle();
    expect(put.outcome).toBe('resolved');
  });

  it('hands a request to a lost peer to the transport as before when the transport cannot tell', async () => {
    const datagrams = new FakeDatagrams();
    const channels = new PeerChannels(datagrams, new ManualClock());
    datagrams.lose(1);
    const queued = track(channels.request(1, new Uint8Array([7])));
    expect(datagrams.sent).toHaveLength(1);
    expect(channels.link(PEER_CHANNEL.chains).connectionLost?.(1) ?? false).toBe(false);
    datagrams.answer(0, new Uint8Array([9]));
    await settle();
    expect(queued.outcome).toBe('resolved');
  });

  it('ignores a late answer to a request sent before a restart: the new request keeps its own', async () => {
    const clock = new ManualClock();
    const datagrams = new FakeDatagrams();
    const before = new PeerChannels(datagrams, clock);
    void before.request(1, new Uint8Array([1])).catch(() => {});
    const sentBefore = datagrams.sent[0]!.payload;
    clock.advance(5);
    // The node restarts: a new PeerChannels takes the transport's messages.
    const after = new PeerChannels(datagrams, clock);
    const freshAnswer = after.request(1, new Uint8Array([2]));
    const fresh = track(freshAnswer);
    datagrams.deliver(1, answerFrame(sentBefore, new Uint8Array([0xbe])));
    await settle();
    expect(fresh.outcome).toBe('pending');
    datagrams.answer(1, new Uint8Array([0xef]));
    await settle();
    expect(fresh.outcome).toBe('resolved');
    expect([...(await freshAnswer)]).toEqual([0xef]);
  });

  it('takes an answer only from the peer the request was sent to', async () => {
    const clock = new ManualClock();
    const datagrams = new FakeDatagrams();
    const channels = new PeerChannels(datagrams, clock);
    const request = track(channels.request(1, new Uint8Array([3])));
    datagrams.deliver(2, answerFrame(datagrams.sent[0]!.payload, new Uint8Array([9])));
    await settle();
    expect(request.outcome).toBe('pending');
    datagrams.answer(0, new Uint8Array([4]));
    await settle();
    expect(request.outcome).toBe('resolved');
  });
});
