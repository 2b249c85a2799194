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
});
