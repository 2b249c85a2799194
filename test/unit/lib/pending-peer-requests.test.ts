import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  type NodeId,
  PendingPeerRequests,
  type UnansweredCause,
} from '../../../src/lib/index.js';
import { REQUEST_IDS_PER_MS } from '../../../src/lib/pending-peer-requests.js';

class Unanswered extends Error {
  constructor(
    readonly peer: NodeId,
    readonly sent: boolean,
    reason: string,
    readonly why: UnansweredCause,
  ) {
    super(reason);
  }
}

function table(
  options: {
    accepts?: boolean;
    maxInFlight?: number;
    clock?: ManualClock;
    sweepIntervalMs?: number;
    /** Peers whose connection the link reports lost (the table then asks it). */
    lostConnections?: ReadonlySet<NodeId>;
  } = {},
) {
  const { lostConnections } = options;
  const clock = options.clock ?? new ManualClock();
  const sent: Array<{ peer: NodeId; id: number }> = [];
  const pending = new PendingPeerRequests<string>({
    send: (peer, frame) => {
      sent.push({ peer, id: new DataView(frame.buffer).getFloat64(0) });
      return options.accepts ?? true;
    },
    clock,
    maxInFlight: options.maxInFlight ?? 10,
    unanswered: (peer, sent, reason, cause) => new Unanswered(peer, sent, reason, cause),
    ...(options.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: options.sweepIntervalMs }),
    ...(lostConnections === undefined ? {} : { connectionLost: (peer: NodeId) => lostConnections.has(peer) }),
  });
  const ask = (peer: NodeId, timeoutMs = 1_000) =>
    pending.request(
      peer,
      (id) => {
        const frame = new Uint8Array(8);
        new DataView(frame.buffer).setFloat64(0, id);
        return frame;
      },
      timeoutMs,
      () => new Error('overloaded'),
    );
  return { clock, sent, pending, ask };
}

describe('PendingPeerRequests', () => {
  it('resolves a request with the answer its peer sent under its id, and drops answers from others', async () => {
    const { sent, pending, ask, clock } = table();
    const asked = ask(2 as NodeId);
    const id = sent[0]?.id as number;
    pending.resolve(3 as NodeId, id, 'from the wrong node');
    expect(pending.inFlight).toBe(1);
    pending.resolve(2 as NodeId, id, 'answer');
    await expect(asked).resolves.toBe('answer');
    expect(pending.inFlight).toBe(0);
    expect(clock.pendingTimerCount()).toBe(0);
  });

  it('says sent: false when the transport refused it, sent: true after a timeout, a lost peer or failAll', async () => {
    await expect(table({ accepts: false }).ask(2 as NodeId)).rejects.toMatchObject({
      sent: false,
      why: 'unsent',
    });
    const { pending, ask, clock } = table();
    const timedOut = ask(2 as NodeId, 100);
    const lost = ask(3 as NodeId);
    const failed = ask(4 as NodeId);
    clock.advance(100);
    await expect(timedOut).rejects.toMatchObject({ peer: 2, sent: true, why: 'timeout' });
    pending.peerLost(3 as NodeId);
    await expect(lost).rejects.toMatchObject({
      peer: 3,
      sent: true,
      message: 'the connection closed',
      why: 'peer-lost',
    });
    expect(pending.inFlight).toBe(1);
    pending.failAll('closing');
    await expect(failed).rejects.toMatchObject({ peer: 4, sent: true, message: 'closing', why: 'closed' });
  });

  it('refuses a request past its bound without sending it, and rejects an error answer', async () => {
    const { sent, pending, ask } = table({ maxInFlight: 1 });
    const first = ask(2 as NodeId);
    await expect(ask(2 as NodeId)).rejects.toThrow('overloaded');
    expect(sent).toHaveLength(1);
    pending.reject(2 as NodeId, sent[0]?.id as number, new Error('refused there'));
    await expect(first).rejects.toThrow('refused there');
  });

  it('a late answer to a request of an earlier table (its node restarted) settles no request of the new one', async () => {
    const clock = new ManualClock();
    const before = table({ clock });
    void before.ask(2 as NodeId).catch(() => undefined);
    const lateId = before.sent[0]?.id as number;
    // The node restarts a few milliseconds later; the peer still serves the old request.
    clock.advance(5);
    const after = table({ clock });
    const asked = after.ask(2 as NodeId);
    after.pending.resolve(2 as NodeId, lateId, 'the answer to the earlier request');
    expect(after.pending.inFlight).toBe(1);
    after.pending.resolve(2 as NodeId, after.sent[0]?.id as number, 'its own answer');
    await expect(asked).resolves.toBe('its own answer');
  });

  it('issues ids that stay distinct from an earlier table until it averages REQUEST_IDS_PER_MS per millisecond', () => {
    const clock = new ManualClock();
    const before = table({ clock, maxInFlight: REQUEST_IDS_PER_MS + 1 });
    for (let index = 0; index < REQUEST_IDS_PER_MS; index++)
      void before.ask(2 as NodeId).catch(() => undefined);
    clock.advance(1);
    const after = table({ clock });
    void after.ask(2 as NodeId).catch(() => undefined);
    const earlier = new Set(before.sent.map((request) => request.id));
    expect(earlier.size).toBe(REQUEST_IDS_PER_MS);
    expect(earlier.has(after.sent[0]?.id as number)).toBe(false);
  });

  it('with a sweep interval, checks every request against its own deadline with one timer, and stops when none is left', async () => {
    const { pending, ask, clock, sent } = table({ sweepIntervalMs: 100 });
    const short = ask(2 as NodeId, 150);
    const long = ask(3 as NodeId, 1_000);
    const answered = ask(4 as NodeId, 1_000);
    expect(clock.pendingTimerCount()).toBe(1);
    clock.advance(100);
    expect(pending.inFlight).toBe(3);
    // Failed at the first sweep past its deadline, not before.
    clock.advance(100);
    await expect(short).rejects.toMatchObject({ peer: 2, sent: true, why: 'timeout' });
    pending.resolve(4 as NodeId, sent[2]?.id as number, 'in time');
    await expect(answered).resolves.toBe('in time');
    clock.advance(700);
    expect(pending.inFlight).toBe(1);
    clock.advance(100);
    await expect(long).rejects.toMatchObject({
      peer: 3,
      why: 'timeout',
      message: 'no answer within 1000 ms',
    });
    clock.advance(1_000);
    expect(clock.pendingTimerCount()).toBe(0);
  });

  it('stopTimers leaves what is in flight to its callers, and a later request starts the sweep again', async () => {
    const { pending, ask, clock } = table({ sweepIntervalMs: 100 });
    void ask(2 as NodeId, 100).catch(() => undefined);
    void ask(3 as NodeId, 100).catch(() => undefined);
    pending.stopTimers();
    expect(clock.pendingTimerCount()).toBe(0);
    clock.advance(1_000);
    expect(pending.inFlight).toBe(2);
    const later = ask(4 as NodeId, 100);
    expect(clock.pendingTimerCount()).toBe(1);
    clock.advance(100);
    await expect(later).rejects.toMatchObject({ peer: 4, why: 'timeout' });
    // The sweep fails every request past its deadline, those left earlier too.
    expect(pending.inFlight).toBe(0);
  });

  it('refuses at once, unsent and never handed to the transport, a request to a peer whose connection is lost, until it is up again', async () => {
    const lostConnections = new Set<NodeId>();
    const { pending, ask, clock, sent } = table({ lostConnections });
    const written = ask(2 as NodeId);
    lostConnections.add(2 as NodeId);
    pending.peerLost(2 as NodeId);
    // Written before the loss: it may have been served.
    await expect(written).rejects.toMatchObject({ peer: 2, sent: true, why: 'peer-lost' });

    await expect(ask(2 as NodeId)).rejects.toMatchObject({
      peer: 2,
      sent: false,
      why: 'unsent',
      message: 'its connection is down (not sent)',
    });
    expect(sent.map((request) => request.peer)).toEqual([2]);
    expect(pending.inFlight).toBe(0);
    expect(clock.pendingTimerCount()).toBe(0);
    const toAnother = ask(3 as NodeId);
    expect(sent.map((request) => request.peer)).toEqual([2, 3]);

    lostConnections.delete(2 as NodeId);
    const afterReturn = ask(2 as NodeId);
    expect(sent.map((request) => request.peer)).toEqual([2, 3, 2]);
    pending.resolve(2 as NodeId, sent[2]?.id as number, 'served after the return');
    await expect(afterReturn).resolves.toBe('served after the return');
    pending.resolve(3 as NodeId, sent[1]?.id as number, 'served');
    await expect(toAnother).resolves.toBe('served');
  });

  it('without a link that tells, hands a request to a lost peer to the transport as before (it queues it for the return)', async () => {
    const { pending, ask, sent } = table();
    pending.peerLost(2 as NodeId);
    const queued = ask(2 as NodeId);
    expect(sent.map((request) => request.peer)).toEqual([2]);
    pending.resolve(2 as NodeId, sent[0]?.id as number, 'served after the return');
    await expect(queued).resolves.toBe('served after the return');
  });

  it('a per-request table stops its timers too', () => {
    const { pending, ask, clock } = table();
    void ask(2 as NodeId, 100).catch(() => undefined);
    expect(clock.pendingTimerCount()).toBe(1);
    pending.stopTimers();
    expect(clock.pendingTimerCount()).toBe(0);
  });
});
