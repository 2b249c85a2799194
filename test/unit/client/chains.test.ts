/**
 * `client.chains` against the chains API over the fake backend on loopback: values round-trip,
 * failures come back as the server's typed errors, appends are retried only when they were
 * certainly not written, and a subscription resumes after its node goes away without skipping or
 * repeating a record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChainAppendOutcomeUnknownError,
  ChainNotLeaderError,
  ChainUnavailableError,
} from '../../../src/chains/index.js';
import {
  bytesToText,
  DEFAULT_MAX_ATTEMPTS,
  MeshClient,
  type MeshClientError,
} from '../../../src/client/index.js';
import { findFreeLoopbackPort } from '../../../src/lib/node/index.js';
import { type LocalEtcd, rejection, startLocalEtcd } from '../../support/etcd-harness.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { until } from '../../support/until.js';

describe('client.chains against one node', () => {
  let backend: FakeChainsBackend;
  let node: LocalEtcd;
  let client: MeshClient;
  let chainCount = 0;
  const newChain = async (): Promise<string> => {
    chainCount += 1;
    const name = `client-chain-${chainCount}`;
    await client.chains.create(name, { replicas: 3 });
    return name;
  };

  beforeAll(async () => {
    backend = new FakeChainsBackend();
    node = await startLocalEtcd({ chains: backend });
    client = await MeshClient.connect({ endpoints: [node.server.address], timeoutMs: 5_000 });
  });

  afterAll(async () => {
    client.close();
    await node.close();
  });

  it('creates, appends, reads, reports status, lists and deletes', async () => {
    const status = await client.chains.create('round-trip', {
      replicas: 2,
      acks: 'all',
      sync: { mode: 'interval', intervalMs: 20 },
    });
    expect(status).toEqual({
      name: 'round-trip',
      epoch: 1,
      leader: 1,
      acks: 'all',
      replicas: [
        { node: 1, offset: 0, lag: 0, healthy: true },
        { node: 2, offset: 0, lag: 0, healthy: true },
      ],
      commitOffset: 0,
      startOffset: 0,
    });
    expect(await client.chains.append('round-trip', 'one')).toEqual({
      epoch: 1,
      firstOffset: 0,
      lastOffset: 0,
    });
    expect(await client.chains.append('round-trip', ['two', new Uint8Array([3])])).toEqual({
      epoch: 1,
      firstOffset: 1,
      lastOffset: 2,
    });
    const read = await client.chains.read('round-trip', { fromOffset: 1 });
    expect(read.records.map((record) => [record.offset, record.epoch, [...record.payload]])).toEqual([
      [1, 1, [...Buffer.from('two')]],
      [2, 1, [3]],
    ]);
    expect([read.nextOffset, read.commitOffset]).toEqual([3, 3]);
    expect((await client.chains.status('round-trip')).commitOffset).toBe(3);
    expect((await client.chains.list()).find((chain) => chain.name === 'round-trip')).toEqual({
      name: 'round-trip',
      epoch: 1,
      leader: 1,
      acks: 'all',
      replicas: [1, 2],
    });
    await client.chains.delete('round-trip');
    const gone = await rejection(client.chains.status('round-trip'));
    expect([gone.code, gone.retryable, gone.details]).toEqual([
      'CHAIN_NOT_FOUND',
      false,
      { name: 'round-trip' },
    ]);
  });

  it('rebuilds typed errors from the trailers', async () => {
    const name = await newChain();
    const exists = await rejection(client.chains.create(name, { replicas: 1 }));
    expect([exists.code, exists.retryable]).toEqual(['CHAIN_EXISTS', false]);
    const invalid = await rejection(client.chains.read(name, { limit: 1_000_000 }));
    expect(invalid.code).toBe('VALIDATION_FAILED');
    expect(invalid.message).toContain('limit 1000000 is more than 10000 records');
  });

  it('retries an append refused before it was proposed, and writes it once', async () => {
    const name = await newChain();
    const callsBefore = backend.appendCalls;
    backend.failNext('append', new ChainNotLeaderError(name, 2, 3));
    backend.failNext('append', new ChainUnavailableError(name, 'no leader reachable'));
    const result = await client.chains.append(name, 'once');
    expect(result).toEqual({ epoch: 1, firstOffset: 0, lastOffset: 0 });
    expect(backend.appendCalls - callsBefore).toBe(3);
    const read = await client.chains.read(name);
    expect(read.records.map((record) => bytesToText(record.payload))).toEqual(['once']);
  });

  it('never retries an append whose outcome is unknown', async () => {
    const name = await newChain();
    const callsBefore = backend.appendCalls;
    backend.failNext('append', new ChainAppendOutcomeUnknownError(name, 'leader lost'));
    const unknown = await rejection(client.chains.append(name, 'maybe'));
    expect([unknown.code, unknown.retryable]).toEqual(['CHAIN_APPEND_OUTCOME_UNKNOWN', false]);
    expect(backend.appendCalls - callsBefore).toBe(1);
  });

  it('an append past its deadline has an unknown outcome and is not sent again', async () => {
    const name = await newChain();
    const callsBefore = backend.appendCalls;
    backend.holdAppends = true;
    try {
      const late = await rejection(client.chains.append(name, 'late', { timeoutMs: 300 }));
      expect([late.code, late.retryable]).toEqual(['CHAIN_APPEND_OUTCOME_UNKNOWN', false]);
    } finally {
      backend.holdAppends = false;
    }
    expect(backend.appendCalls - callsBefore).toBe(1);
  });

  it('an append refused on every attempt fails with the refusal, which says it was not written', async () => {
    const name = await newChain();
    const callsBefore = backend.appendCalls;
    // The client makes DEFAULT_MAX_ATTEMPTS attempts; each is refused.
    backend.failNext('append', new ChainNotLeaderError(name, 2), DEFAULT_MAX_ATTEMPTS);
    const refused = await rejection(client.chains.append(name, 'never'));
    expect([refused.code, refused.retryable]).toEqual(['CHAIN_NOT_LEADER', true]);
    expect(backend.appendCalls - callsBefore).toBe(DEFAULT_MAX_ATTEMPTS);
    expect((await client.chains.read(name)).records).toEqual([]);
  });

  it('appends made in one turn share one call, each answered with its own offsets', async () => {
    const name = await newChain();
    const callsBefore = backend.appendCalls;
    const results = await Promise.all([
      client.chains.append(name, 'a'),
      client.chains.append(name, ['b', 'c']),
      client.chains.append(name, 'd'),
    ]);
    expect(backend.appendCalls - callsBefore).toBe(1);
    expect(results).toEqual([
      { epoch: 1, firstOffset: 0, lastOffset: 0 },
      { epoch: 1, firstOffset: 1, lastOffset: 2 },
      { epoch: 1, firstOffset: 3, lastOffset: 3 },
    ]);
    const read = await client.chains.read(name);
    expect(read.records.map((record) => bytesToText(record.payload))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a shared call refused for one record: the others are written alone, that one fails', async () => {
    const name = `client-chain-small-${chainCount}`;
    await client.chains.create(name, { replicas: 3, maxRecordBytes: 4 });
    const callsBefore = backend.appendCalls;
    const outcomes = await Promise.allSettled([
      client.chains.append(name, 'ok-1'),
      client.chains.append(name, 'far too large'),
      client.chains.append(name, 'ok-2'),
    ]);
    // The shared call, then each append alone.
    expect(backend.appendCalls - callsBefore).toBe(4);
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: { epoch: 1, firstOffset: 0, lastOffset: 0 } });
    expect(outcomes[1]?.status).toBe('rejected');
    expect(((outcomes[1] as PromiseRejectedResult).reason as MeshClientError).code).toBe(
      'CHAIN_RECORD_TOO_LARGE',
    );
    expect(outcomes[2]).toEqual({ status: 'fulfilled', value: { epoch: 1, firstOffset: 1, lastOffset: 1 } });
    const read = await client.chains.read(name);
    expect(read.records.map((record) => bytesToText(record.payload))).toEqual(['ok-1', 'ok-2']);
  });

  it('a shared call whose outcome is unknown fails every append in it, none sent again', async () => {
    const name = await newChain();
    const callsBefore = backend.appendCalls;
    backend.failNext('append', new ChainAppendOutcomeUnknownError(name, 'leader lost'));
    const outcomes = await Promise.allSettled([
      client.chains.append(name, 'x'),
      client.chains.append(name, 'y'),
    ]);
    expect(backend.appendCalls - callsBefore).toBe(1);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect(((outcome as PromiseRejectedResult).reason as MeshClientError).code).toBe(
        'CHAIN_APPEND_OUTCOME_UNKNOWN',
      );
    }
  });

  it('an append larger than the port accepts is refused by gRPC before the backend, typed', async () => {
    const name = await newChain();
    const callsBefore = backend.appendCalls;
    const tooLarge = await rejection(client.chains.append(name, new Uint8Array(3 * 1024 * 1024)));
    expect([tooLarge.code, tooLarge.retryable]).toEqual(['RESOURCE_EXHAUSTED', false]);
    expect(backend.appendCalls).toBe(callsBefore);
  });

  it('subscribes from an offset, receives live records, and ends the server side on break', async () => {
    const name = await newChain();
    await client.chains.append(name, ['a', 'b', 'c']);
    const subscription = client.chains.subscribe(name, { fromOffset: 1 });
    const seen: string[] = [];
    for await (const record of subscription) {
      seen.push(`${record.offset}:${bytesToText(record.payload)}`);
      if (record.offset === 2) await client.chains.append(name, 'd');
      if (record.offset === 3) break;
    }
    expect(seen).toEqual(['1:b', '2:c', '3:d']);
    expect(subscription.nextOffset).toBe(4);
    await until(() => backend.openSubscriptions === 0, 'the server-side subscription to end');
  });

  it('a subscription to a chain that does not exist fails with CHAIN_NOT_FOUND', async () => {
    const failure = await rejection(
      (async () => {
        for await (const _record of client.chains.subscribe('never-created')) break;
      })(),
    );
    expect(failure.code).toBe('CHAIN_NOT_FOUND');
  });
});

describe('client.chains when the time budget runs out before the attempts do', () => {
  it('an append refused on every attempt fails with the refusal, or outcome unknown for one sent at the deadline; never a bare TIMEOUT', async () => {
    // A node of its own, refusing every append for good: an attempt still in flight at the deadline
    // reaches it after the test and is refused too, and no other test's counts see it.
    const backend = new FakeChainsBackend();
    const node = await startLocalEtcd({ chains: backend });
    const client = await MeshClient.connect({ endpoints: [node.server.address], maxAttempts: 100 });
    try {
      await client.chains.create('outlasted', { replicas: 3 });
      backend.failNext('append', new ChainNotLeaderError('outlasted', 2), 100);
      const failure = await rejection(client.chains.append('outlasted', 'never', { timeoutMs: 300 }));
      // Budget spent in a wait between attempts: every attempt was refused, and the refusal says so.
      // Spent while an attempt was in flight (one sent with a few ms left, its refusal slower on a
      // loaded machine): that attempt was sent, so its outcome is rightly unknown.
      if (failure.code === 'CHAIN_APPEND_OUTCOME_UNKNOWN') {
        expect(failure.message).toMatch(/the append was sent but not answered within \d+ ms/);
      } else {
        expect([failure.code, failure.retryable]).toEqual(['CHAIN_NOT_LEADER', true]);
      }
      expect((await client.chains.read('outlasted')).records).toEqual([]);
    } finally {
      client.close();
      await node.close();
    }
  });
});

describe('client.chains across endpoints', () => {
  it('sends an append that could not leave to the next endpoint, once', async () => {
    const backend = new FakeChainsBackend();
    const node = await startLocalEtcd({ chains: backend });
    const deadAddress = `127.0.0.1:${await findFreeLoopbackPort()}`;
    const direct = await MeshClient.connect({ endpoints: [node.server.address], timeoutMs: 5_000 });
    await direct.chains.create('failover', { replicas: 1 });
    direct.close();
    // A fresh client whose first pick is the endpoint nobody listens on.
    const client = await MeshClient.connect({
      endpoints: [deadAddress, node.server.address],
      discoverLeader: false,
      timeoutMs: 5_000,
    });
    try {
      const result = await client.chains.append('failover', 'x');
      expect(result.firstOffset).toBe(0);
      expect(backend.appendCalls).toBe(1);
      expect((await client.chains.read('failover')).records.length).toBe(1);
    } finally {
      client.close();
      await node.close();
    }
  });

  it('a subscription gives up after maxAttempts failures in a row', async () => {
    const deadAddress = `127.0.0.1:${await findFreeLoopbackPort()}`;
    const client = await MeshClient.connect({
      endpoints: [deadAddress],
      discoverLeader: false,
      maxAttempts: 3,
    });
    try {
      const failure = await rejection(
        (async () => {
          for await (const _record of client.chains.subscribe('anything')) break;
        })(),
      );
      expect(failure.code).toBe('UNAVAILABLE');
    } finally {
      client.close();
    }
  });

  it('does not resend an append cut off after it was sent', async () => {
    const backend = new FakeChainsBackend();
    const node = await startLocalEtcd({ chains: backend });
    const client = await MeshClient.connect({ endpoints: [node.server.address], timeoutMs: 8_000 });
    try {
      await client.chains.create('cut-off', { replicas: 1 });
      backend.holdAppends = true;
      const pending = rejection(client.chains.append('cut-off', 'x'));
      await until(() => backend.appendCalls === 1, 'the append to reach the node');
      // Closing the node cuts the held call off once its grace period is over.
      await node.close();
      const error = await pending;
      expect([error.code, error.retryable]).toEqual(['CHAIN_APPEND_OUTCOME_UNKNOWN', false]);
      expect(backend.appendCalls).toBe(1);
    } finally {
      client.close();
    }
  }, 20_000);

  it('resumes a subscription on another endpoint from the record after the last one seen', async () => {
    const backend = new FakeChainsBackend();
    const first = await startLocalEtcd({ chains: backend });
    const second = await startLocalEtcd({ chains: backend });
    const client = await MeshClient.connect({
      endpoints: [first.server.address, second.server.address],
      discoverLeader: false,
      timeoutMs: 5_000,
    });
    try {
      await client.chains.create('resumed', { replicas: 2 });
      await client.chains.append('resumed', ['r0', 'r1', 'r2']);
      const seen: number[] = [];
      let closedFirst = false;
      for await (const record of client.chains.subscribe('resumed')) {
        seen.push(record.offset);
        if (record.offset === 2 && !closedFirst) {
          closedFirst = true;
          // The node going away ends its streams; the next records arrive through the other.
          await first.close();
          await client.chains.append('resumed', ['r3', 'r4']);
        }
        if (record.offset === 4) break;
      }
      expect(seen).toEqual([0, 1, 2, 3, 4]);
    } finally {
      client.close();
      await second.close();
    }
  });
});
