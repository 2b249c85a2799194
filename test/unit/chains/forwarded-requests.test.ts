/**
 * A chain request forwarded to another node that gets no answer fails with the peer requests'
 * one error type under the chains' own code (CHAIN_FORWARD_FAILED), saying whether it may have
 * been served: not when the transport refused it, maybe after its deadline.
 */
import { describe, expect, it } from 'vitest';
import { CHAIN_FORWARD_FAILED, ForwardedRequests, type HostRequest } from '../../../src/chains/index.js';
import { ManualClock, PeerRequestError } from '../../../src/lib/index.js';

const READ: HostRequest = {
  type: 'read',
  chain: 'orders',
  fromOffset: 0,
  maxRecords: 1,
  maxBytes: 1,
  waitMs: 0,
};

async function failure(answer: Promise<unknown>): Promise<unknown> {
  return answer.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/**
 * Forwarded requests whose transport takes every frame and records the peers they went to; with
 * `lostConnections`, the link tells which peers' connections are lost.
 */
function recordingForwards(lostConnections?: ReadonlySet<number>) {
  const clock = new ManualClock();
  const sent: number[] = [];
  const send = (peer: number): boolean => {
    sent.push(peer);
    return true;
  };
  const connectionLost =
    lostConnections === undefined ? undefined : (peer: number) => lostConnections.has(peer);
  return { clock, sent, forwards: new ForwardedRequests(send, clock, connectionLost) };
}

describe('ForwardedRequests', () => {
  it('fails a refused request as not sent and a timed-out one as maybe served, both CHAIN_FORWARD_FAILED', async () => {
    const clock = new ManualClock();
    let accepts = false;
    const forwards = new ForwardedRequests(() => accepts, clock);
    const refused = await failure(forwards.request(2, READ, 1_000));
    expect(refused).toBeInstanceOf(PeerRequestError);
    expect(refused).toMatchObject({
      code: CHAIN_FORWARD_FAILED,
      message: expect.stringMatching(/^request to node 2: /),
      peer: 2,
      sent: false,
      details: { peer: 2, sent: false },
    });
    accepts = true;
    const timedOut = failure(forwards.request(3, READ, 1_000));
    clock.advance(1_000);
    expect(await timedOut).toMatchObject({
      name: 'PeerRequestError',
      code: 'CHAIN_FORWARD_FAILED',
      message: expect.stringMatching(/^request to node 3: /),
      sent: true,
    });
    expect(forwards.inFlight).toBe(0);
  });

  it('refuses a request to a peer whose connection was lost, unsent, until the link says it is up again', async () => {
    const lostConnections = new Set<number>();
    const { clock, sent, forwards } = recordingForwards(lostConnections);
    const inFlight = failure(forwards.request(2, READ, 1_000));
    lostConnections.add(2);
    forwards.peerLost(2);
    expect(await inFlight).toMatchObject({ code: CHAIN_FORWARD_FAILED, peer: 2, sent: true });

    const whileDown = await failure(forwards.request(2, READ, 1_000));
    expect(whileDown).toMatchObject({ code: CHAIN_FORWARD_FAILED, peer: 2, sent: false });
    expect(sent).toEqual([2]);

    lostConnections.delete(2);
    const afterReturn = failure(forwards.request(2, READ, 1_000));
    expect(sent).toEqual([2, 2]);
    clock.advance(1_000);
    expect(await afterReturn).toMatchObject({ sent: true });
  });

  it('queues a request to a lost peer as before when the link cannot tell', async () => {
    const { clock, sent, forwards } = recordingForwards();
    forwards.peerLost(2);
    const queued = failure(forwards.request(2, READ, 1_000));
    expect(sent).toEqual([2]);
    clock.advance(1_000);
    expect(await queued).toMatchObject({ sent: true });
  });
});
