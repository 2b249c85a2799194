import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../../src/client/backoff.js';
import {
  ALL_KEYS_RANGE_END,
  CompactedError,
  chooseLeader,
  type EndpointStatus,
  errorFromGrpc,
  LeaseNotFoundError,
  MAX_WRITE_LANES,
  NotLeaderError,
  normalizeEndpoint,
  prefixRangeEnd,
  RETRY_BACKOFF_BASE_MS,
  RETRY_BACKOFF_MAX_MS,
  TimeoutError,
  UnavailableError,
} from '../../../src/client/index.js';
import { ResumingStream, type StreamSource } from '../../../src/client/resuming-stream.js';
import type { ServiceTransport } from '../../../src/client/service-transport.js';
import { CLIENT_ID_HEADER, ClientSession, SEQUENCE_HEADER } from '../../../src/client/session.js';
import { SeededRandom } from '../../../src/lib/index.js';

function compare(left: Uint8Array, right: Uint8Array): number {
  return Buffer.compare(Buffer.from(left), Buffer.from(right));
}

describe('prefixRangeEnd', () => {
  it('increments the last byte below 0xff and drops what follows', () => {
    expect([...prefixRangeEnd(new Uint8Array([0x61, 0x62]))]).toEqual([0x61, 0x63]);
    expect([...prefixRangeEnd(new Uint8Array([0x61, 0xff, 0xff]))]).toEqual([0x62]);
    expect(prefixRangeEnd(new Uint8Array([0xff]))).toBe(ALL_KEYS_RANGE_END);
  });

  it('bounds exactly the keys that start with the prefix', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        fc.uint8Array({ maxLength: 4 }),
        (prefix, key) => {
          const end = prefixRangeEnd(prefix);
          if (end === ALL_KEYS_RANGE_END) return;
          const startsWith =
            key.length >= prefix.length && compare(key.subarray(0, prefix.length), prefix) === 0;
          const inRange = compare(key, prefix) >= 0 && compare(key, end) < 0;
          expect(inRange).toBe(startsWith);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('retryDelayMs', () => {
  it('grows exponentially with jitter inside [step/2, step], capped', () => {
    const random = new SeededRandom(7);
    for (let retry = 0; retry < 12; retry++) {
      const stepMs = Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_BASE_MS * 2 ** retry);
      for (let sample = 0; sample < 20; sample++) {
        const delayMs = retryDelayMs(retry, random);
        expect(delayMs).toBeGreaterThanOrEqual(Math.floor(stepMs / 2));
        expect(delayMs).toBeLessThanOrEqual(stepMs);
      }
    }
  });

  it('spreads clients that fail together', () => {
    const random = new SeededRandom(11);
    const delays = new Set(Array.from({ length: 20 }, () => retryDelayMs(5, random)));
    expect(delays.size).toBeGreaterThan(5);
  });
});

describe('errorFromGrpc', () => {
  const failure = (code: status, details: string) => ({ code, details, message: `${code} ${details}` });

  it('recognises the node refusals that call for another endpoint', () => {
    const notLeader = errorFromGrpc(failure(status.UNAVAILABLE, 'etcdserver: not leader'), 'a:1');
    expect(notLeader).toBeInstanceOf(NotLeaderError);
    expect(notLeader.retryable).toBe(true);
    expect(errorFromGrpc(failure(status.UNAVAILABLE, 'etcdserver: no leader'), 'a:1').code).toBe(
      'NOT_LEADER',
    );
    expect(errorFromGrpc(failure(status.UNAVAILABLE, 'etcdserver: leader changed'), 'a:1')).toMatchObject({
      code: 'LEADER_CHANGED',
      retryable: true,
    });
    const refused = errorFromGrpc(failure(status.UNAVAILABLE, 'No connection established'), 'a:1');
    expect(refused).toBeInstanceOf(UnavailableError);
    expect(refused.retryable).toBe(true);
  });

  it('keeps the server codes of operating errors, which are not retried', () => {
    const compacted = errorFromGrpc(
      failure(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
      'a:1',
    );
    expect(compacted).toBeInstanceOf(CompactedError);
    expect(compacted.retryable).toBe(false);
    expect(
      errorFromGrpc(failure(status.NOT_FOUND, 'etcdserver: requested lease not found'), 'a:1'),
    ).toBeInstanceOf(LeaseNotFoundError);
    expect(errorFromGrpc(failure(status.NOT_FOUND, 'etcdserver: member not found'), 'a:1').code).toBe(
      'MEMBER_NOT_FOUND',
    );
    expect(
      errorFromGrpc(failure(status.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'), 'a:1'),
    ).toMatchObject({ code: 'KV_NO_SPACE', retryable: false });
    expect(
      errorFromGrpc(
        failure(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'),
        'a:1',
      ).code,
    ).toBe('MEMBER_NOT_LEARNER');
    const deadline = errorFromGrpc(failure(status.DEADLINE_EXCEEDED, 'Deadline exceeded'), 'a:1');
    expect(deadline).toBeInstanceOf(TimeoutError);
    expect(deadline.retryable).toBe(false);
    expect(errorFromGrpc(failure(status.INTERNAL, 'boom'), 'a:1')).toMatchObject({
      code: 'UNKNOWN',
      grpcCode: 13,
    });
  });
});

describe('normalizeEndpoint', () => {
  it('accepts URLs and bare addresses', () => {
    expect(normalizeEndpoint('http://127.0.0.1:2379/')).toBe('127.0.0.1:2379');
    expect(normalizeEndpoint(' node-a:2379 ')).toBe('node-a:2379');
    expect(normalizeEndpoint('https://[::1]:2379')).toBe('[::1]:2379');
  });
});

describe('ClientSession lanes', () => {
  it('numbers writes per lane and reuses a released lane', async () => {
    const session = new ClientSession('c');
    const first = await session.begin();
    const second = await session.begin();
    expect([first.clientId, first.sequence, second.clientId, second.sequence]).toEqual(['c', 1, 'c.1', 1]);
    expect(first.metadata().get(CLIENT_ID_HEADER)).toEqual(['c']);
    expect(second.metadata().get(SEQUENCE_HEADER)).toEqual(['1']);
    first.release();
    const third = await session.begin();
    expect([third.clientId, third.sequence]).toEqual(['c', 2]);
    expect(session.sequence).toBe(3);
  });

  it('makes a write wait when every lane is busy, and hands it the next freed lane', async () => {
    const session = new ClientSession('c');
    const tickets = await Promise.all(Array.from({ length: MAX_WRITE_LANES }, () => session.begin()));
    let waited: { clientId: string; sequence: number } | undefined;
    const waiting = session.begin().then((ticket) => {
      waited = ticket;
    });
    await Promise.resolve();
    expect(waited).toBeUndefined();
    tickets[5]?.release();
    // A newcomer must not take the lane handed to the waiting write.
    const newcomer = session.begin();
    await waiting;
    expect(waited).toMatchObject({ clientId: 'c.5', sequence: 2 });
    tickets[6]?.release();
    expect(await newcomer).toMatchObject({ clientId: 'c.6', sequence: 2 });
  });
});

describe('chooseLeader', () => {
  const status = (
    endpoint: string,
    memberId: bigint,
    leaderId: bigint,
    raftTerm: number,
  ): EndpointStatus => ({
    endpoint,
    header: { clusterId: 1n, memberId, revision: 1, raftTerm },
    memberId,
    leaderId,
    version: '3.5.0',
    dbSizeBytes: 0,
    raftIndex: 1,
    raftTerm,
    raftAppliedIndex: 1,
    revision: 1,
    isLearner: false,
    errors: [],
  });

  it('picks the endpoint that is the leader in the highest term', () => {
    const statuses = [status('a:1', 1n, 1n, 3), status('b:1', 2n, 2n, 4), status('c:1', 3n, 2n, 4)];
    expect(chooseLeader(statuses)).toEqual({ kind: 'endpoint', endpoint: 'b:1' });
  });

  it('asks for the member list when the leader is not among the endpoints', () => {
    expect(chooseLeader([status('a:1', 1n, 9n, 2), status('b:1', 2n, 0n, 2)])).toEqual({
      kind: 'ask-members',
      leaderId: 9n,
      askEndpoint: 'a:1',
    });
  });

  it('knows no leader when nobody does', () => {
    expect(chooseLeader([status('a:1', 1n, 0n, 2)])).toEqual({ kind: 'none' });
    expect(chooseLeader([])).toEqual({ kind: 'none' });
  });
});

describe('ResumingStream', () => {
  it('refuses a second iteration with ASSERTION_FAILED', async () => {
    const closed = new Error('the client is closed');
    const transport = {
      checkOpen: () => {
        throw closed;
      },
    } as unknown as ServiceTransport;
    const stream = new ResumingStream({} as StreamSource<unknown, unknown>, 0, transport);
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toBe(closed);
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'ASSERTION_FAILED',
      message: 'a resuming stream can be iterated once',
    });
  });
});
