/**
 * `meshos.v1.Chains` on the client port over the in-memory fake backend, called with plain gRPC
 * clients so the wire is checked exactly: every RPC's round trip, the status and trailers each
 * error code is sent with, the Subscribe stream (history then live records, cancellation, a
 * deleted chain, a slow reader), deadlines handed to the backend, and refused input.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { subscribeMessages } from '../../../src/api/chains-service.js';
import {
  DEFAULT_CHAIN_APPEND_TIMEOUT_MS,
  MAX_SUBSCRIBE_MESSAGE_BYTES,
  MAX_SUBSCRIBE_MESSAGE_RECORDS,
} from '../../../src/api/limits.js';
import { ChainAppendOutcomeUnknownError, ChainNotLeaderError } from '../../../src/chains/index.js';
import { chainsProtoDefinition } from '../../../src/protocol/index.js';
import {
  call,
  failure,
  type LocalEtcd,
  MessageQueue,
  type RawClient,
  rawMeshosClient,
  startLocalEtcd,
} from '../../support/etcd-harness.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { until } from '../../support/until.js';

const SUBSCRIBER_BUFFER_RECORDS = 20;

let backend: FakeChainsBackend;
let etcd: LocalEtcd;
let chains: RawClient;
let chainCount = 0;

function rawChainsClient(address: string): RawClient {
  return rawMeshosClient(address, chainsProtoDefinition(), 'Chains');
}

/** A fresh chain per case, so cases do not depend on each other's records. */
async function newChain(): Promise<string> {
  chainCount += 1;
  const name = `chain-${chainCount}`;
  await call(chains, 'Create', { name, replicas: 3 });
  return name;
}

const payloads = (...texts: string[]): Buffer[] => texts.map((text) => Buffer.from(text));

function trailerCode(error: grpc.ServiceError): unknown {
  return error.metadata.get('meshos-error-code')[0];
}

beforeAll(async () => {
  backend = new FakeChainsBackend({ subscriberBufferRecords: SUBSCRIBER_BUFFER_RECORDS });
  etcd = await startLocalEtcd({ chains: backend });
  chains = rawChainsClient(etcd.server.address);
});

afterAll(async () => {
  chains.close();
  await etcd.close();
});

afterEach(() => {
  backend.holdAppends = false;
});

describe('unary calls', () => {
  it('create answers the new chain status; acks defaults to quorum', async () => {
    const status = await call(chains, 'Create', { name: 'created', replicas: 3 });
    expect(status).toEqual({
      name: 'created',
      epoch: '1',
      leader: '1',
      acks: 'ACKS_QUORUM',
      replicas: [1, 2, 3].map((node) => ({ node: String(node), offset: '0', lag: '0', healthy: true })),
      learners: [],
      commit_offset: '0',
      start_offset: '0',
      // The fake answers no leader's own view: no epoch start.
      epoch_start_offset: '0',
      leader_view: false,
    });
    const explicit = await call(chains, 'Create', {
      name: 'created-all',
      replicas: 1,
      acks: 'ACKS_ALL',
      sync_mode: 'SYNC_INTERVAL',
      sync_interval_ms: 50,
    });
    expect(explicit.acks).toBe('ACKS_ALL');
  });

  it('append answers the batch offsets; read returns the records, bounded by limit and bytes', async () => {
    const name = await newChain();
    const first = await call(chains, 'Append', { name, payloads: payloads('a', 'bb', 'ccc') });
    expect(first).toEqual({ epoch: '1', first_offset: '0', last_offset: '2' });
    const second = await call(chains, 'Append', { name, payloads: payloads('dddd') });
    expect(second).toEqual({ epoch: '1', first_offset: '3', last_offset: '3' });

    const all = await call(chains, 'Read', { name, from_offset: 0 });
    expect(all.records.map((record: RawClient) => Buffer.from(record.payload).toString())).toEqual([
      'a',
      'bb',
      'ccc',
      'dddd',
    ]);
    expect(all.records.map((record: RawClient) => record.offset)).toEqual(['0', '1', '2', '3']);
    expect(Number(all.records[0].appended_at_ms)).toBeGreaterThan(0);
    expect([all.next_offset, all.commit_offset]).toEqual(['4', '4']);

    const limited = await call(chains, 'Read', { name, from_offset: 1, limit: 2 });
    expect(limited.records.map((record: RawClient) => record.offset)).toEqual(['1', '2']);
    expect(limited.next_offset).toBe('3');
    const byBytes = await call(chains, 'Read', { name, from_offset: 1, max_bytes: 4 });
    expect(byBytes.records.map((record: RawClient) => record.offset)).toEqual(['1']);
    const atEnd = await call(chains, 'Read', { name, from_offset: 4 });
    expect([atEnd.records.length, atEnd.next_offset]).toEqual([0, '4']);
  });

  it('status, list and delete', async () => {
    const name = await newChain();
    await call(chains, 'Append', { name, payloads: payloads('x', 'y') });
    const status = await call(chains, 'Status', { name });
    expect([status.commit_offset, status.replicas[0].offset]).toEqual(['2', '2']);
    const listed = await call(chains, 'List', {});
    expect(listed.chains.find((chain: RawClient) => chain.name === name)).toEqual({
      name,
      epoch: '1',
      leader: '1',
      acks: 'ACKS_QUORUM',
      replicas: ['1', '2', '3'],
    });
    expect(await call(chains, 'Delete', { name })).toEqual({});
    const gone = await failure(call(chains, 'Status', { name }));
    expect([gone.code, trailerCode(gone), gone.details]).toEqual([
      grpc.status.NOT_FOUND,
      'CHAIN_NOT_FOUND',
      `chain ${name} does not exist`,
    ]);
  });
});

describe('errors', () => {
  it('carry the status of the chains table and the code and details in the trailers', async () => {
    const name = await newChain();
    const exists = await failure(call(chains, 'Create', { name, replicas: 3 }));
    expect([exists.code, trailerCode(exists)]).toEqual([grpc.status.ALREADY_EXISTS, 'CHAIN_EXISTS']);

    backend.failNext('append', new ChainNotLeaderError(name, 4, 7));
    const notLeader = await failure(call(chains, 'Append', { name, payloads: payloads('p') }));
    expect([notLeader.code, trailerCode(notLeader)]).toEqual([grpc.status.UNAVAILABLE, 'CHAIN_NOT_LEADER']);
    expect(JSON.parse(String(notLeader.metadata.get('meshos-error-details')[0]))).toEqual({
      name,
      epoch: 4,
      leader: 7,
    });

    await call(chains, 'Create', { name: `${name}-small`, replicas: 1, max_record_bytes: 3 });
    const tooLarge = await failure(
      call(chains, 'Append', { name: `${name}-small`, payloads: payloads('four') }),
    );
    expect([tooLarge.code, trailerCode(tooLarge)]).toEqual([
      grpc.status.INVALID_ARGUMENT,
      'CHAIN_RECORD_TOO_LARGE',
    ]);

    backend.failNext('append', new ChainAppendOutcomeUnknownError(name, 'leader lost'));
    const unknown = await failure(call(chains, 'Append', { name, payloads: payloads('p') }));
    expect([unknown.code, trailerCode(unknown), unknown.details]).toEqual([
      grpc.status.DEADLINE_EXCEEDED,
      'CHAIN_APPEND_OUTCOME_UNKNOWN',
      `append to chain ${name} has an unknown outcome: leader lost`,
    ]);
  });

  it('answer INTERNAL, without a code, for a failure that is not a MeshError', async () => {
    backend.failNext('list', new TypeError('boom'));
    const internal = await failure(call(chains, 'List', {}));
    expect([internal.code, internal.details, trailerCode(internal)]).toEqual([
      grpc.status.INTERNAL,
      'internal error: TypeError: boom',
      undefined,
    ]);
  });

  it('refuse bad input with INVALID_ARGUMENT naming every problem', async () => {
    const create = await failure(
      call(chains, 'Create', { name: '', replicas: 0, acks: 9, sync_mode: 'SYNC_INTERVAL' }),
    );
    expect([create.code, trailerCode(create)]).toEqual([grpc.status.INVALID_ARGUMENT, 'VALIDATION_FAILED']);
    expect(create.details).toBe(
      'create chain request is invalid: name is empty; replicas must be at least 1; ' +
        'acks 9 is not one, quorum or all; sync_interval_ms must be positive with SYNC_INTERVAL',
    );
    const name = await newChain();
    const appendsBefore = backend.appendCalls;
    const empty = await failure(call(chains, 'Append', { name, payloads: [] }));
    expect([empty.code, empty.details]).toEqual([
      grpc.status.INVALID_ARGUMENT,
      'append request is invalid: payloads is empty: an append carries at least one record',
    ]);
    const huge = await failure(
      call(chains, 'Read', { name, from_offset: '9007199254740993', limit: 10_001 }),
    );
    expect([huge.code, huge.details]).toEqual([
      grpc.status.INVALID_ARGUMENT,
      'read request is invalid: from_offset 9007199254740993 is not an integer from 0 to 2^53-1; ' +
        'limit 10001 is more than 10000 records',
    ]);
    // Refused before reaching the backend.
    expect(backend.appendCalls).toBe(appendsBefore);
  });
});

describe('deadlines', () => {
  it("give the backend the client's deadline as its timeout, and the default without one", async () => {
    const name = await newChain();
    backend.holdAppends = true;
    const before = backend.appendTimeoutsMs.length;
    const failed = await new Promise<grpc.ServiceError>((resolve) => {
      chains.Append({ name, payloads: payloads('late') }, { deadline: new Date(Date.now() + 300) }, resolve);
    });
    expect(failed.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const timeoutMs = backend.appendTimeoutsMs[before] as number;
    expect(timeoutMs).toBeGreaterThan(0);
    expect(timeoutMs).toBeLessThanOrEqual(300);

    backend.holdAppends = false;
    await call(chains, 'Append', { name, payloads: payloads('no deadline') });
    expect(backend.appendTimeoutsMs.at(-1)).toBe(DEFAULT_CHAIN_APPEND_TIMEOUT_MS);
  });
});

describe('subscribe', () => {
  function subscribe(name: string, fromOffset: number) {
    const stream = chains.Subscribe({ name, from_offset: fromOffset });
    const records = new MessageQueue<RawClient>();
    const ended: Promise<grpc.ServiceError | undefined> = new Promise((resolve) => {
      stream.on('error', resolve);
      stream.on('end', () => resolve(undefined));
    });
    stream.on('data', (response: RawClient) => {
      for (const record of response.records) records.push(record);
    });
    return { stream, records, ended };
  }

  it('streams the history from the offset, then records as they commit', async () => {
    const name = await newChain();
    await call(chains, 'Append', { name, payloads: payloads('r0', 'r1', 'r2') });
    const { stream, records } = subscribe(name, 1);
    await records.atLeast(2);
    await call(chains, 'Append', { name, payloads: payloads('r3') });
    const seen = await records.atLeast(3);
    expect(seen.map((record) => [record.offset, Buffer.from(record.payload).toString()])).toEqual([
      ['1', 'r1'],
      ['2', 'r2'],
      ['3', 'r3'],
    ]);
    stream.cancel();
  });

  it('sends the records of one read in one message, cut by the message budget', async () => {
    const name = await newChain();
    await call(chains, 'Append', {
      name,
      payloads: payloads(...Array.from({ length: 50 }, (_, index) => `r${index}`)),
    });
    const stream = chains.Subscribe({ name, from_offset: 0 });
    const messages = new MessageQueue<RawClient>();
    // Cancelling ends the call with CANCELLED as an 'error' event: listened to, so it is not uncaught.
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    stream.on('data', (response: RawClient) => messages.push(response));
    const [first] = await messages.atLeast(1);
    expect(first.records.map((record: RawClient) => record.offset)).toEqual(
      Array.from({ length: 50 }, (_, index) => String(index)),
    );
    stream.cancel();
    expect((await ended).code).toBe(grpc.status.CANCELLED);
  });

  it('a message holds at most MAX_SUBSCRIBE_MESSAGE_RECORDS records and about MAX_SUBSCRIBE_MESSAGE_BYTES', () => {
    const record = (offset: number, bytes: number) => ({
      offset,
      epoch: 1,
      appendedAtMs: 0,
      payload: new Uint8Array(bytes),
    });
    const small = Array.from({ length: MAX_SUBSCRIBE_MESSAGE_RECORDS + 5 }, (_, offset) => record(offset, 1));
    expect(subscribeMessages(small).map((message) => message.length)).toEqual([
      MAX_SUBSCRIBE_MESSAGE_RECORDS,
      5,
    ]);
    const third = Math.floor(MAX_SUBSCRIBE_MESSAGE_BYTES / 3);
    const large = Array.from({ length: 7 }, (_, offset) => record(offset, third));
    expect(subscribeMessages(large).map((message) => message.map((entry) => entry.offset))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6],
    ]);
    // A record above the budget still goes, alone.
    const huge = [record(0, 10), record(1, MAX_SUBSCRIBE_MESSAGE_BYTES + 1), record(2, 10)];
    expect(subscribeMessages(huge).map((message) => message.length)).toEqual([1, 1, 1]);
    expect(subscribeMessages([])).toEqual([]);
  });

  it('a cancelled call ends the backend subscription', async () => {
    const name = await newChain();
    await until(() => backend.openSubscriptions === 0, 'earlier subscriptions to end');
    const { stream, ended } = subscribe(name, 0);
    await until(() => backend.openSubscriptions === 1, 'the subscription to open');
    stream.cancel();
    expect((await ended)?.code).toBe(grpc.status.CANCELLED);
    await until(() => backend.openSubscriptions === 0, 'the backend subscription to end');
  });

  it('a deleted chain ends the stream with NOT_FOUND; an unknown one fails at once', async () => {
    const name = await newChain();
    const { ended } = subscribe(name, 0);
    await until(() => backend.openSubscriptions > 0, 'the subscription to open');
    await call(chains, 'Delete', { name });
    const error = await ended;
    expect([error?.code, error === undefined ? undefined : trailerCode(error)]).toEqual([
      grpc.status.NOT_FOUND,
      'CHAIN_NOT_FOUND',
    ]);
    const unknown = await subscribe('no-such-chain', 0).ended;
    expect(unknown?.code).toBe(grpc.status.NOT_FOUND);
  });

  it('a reader that stops reading is ended with CHAIN_SUBSCRIBER_TOO_SLOW', async () => {
    const name = await newChain();
    const { stream, records, ended } = subscribe(name, 0);
    stream.pause();
    await until(() => backend.openSubscriptions > 0, 'the subscription to open');
    // Large records fill the call's buffers and the connection (a paused grpc-js client still
    // takes about 12 MB in), so the server stops taking records from the backend, whose bounded
    // buffer then overflows.
    const big = Buffer.alloc(64 * 1024, 1);
    for (let batch = 0; batch < 40; batch++) {
      await call(chains, 'Append', { name, payloads: Array.from({ length: 10 }, () => big) });
    }
    stream.resume();
    const error = await ended;
    expect([error?.code, error === undefined ? undefined : trailerCode(error)]).toEqual([
      grpc.status.RESOURCE_EXHAUSTED,
      'CHAIN_SUBSCRIBER_TOO_SLOW',
    ]);
    expect(records.all.length).toBeLessThan(400);
  });

  it('closing the server ends open subscriptions cleanly so clients resume elsewhere', async () => {
    const ownBackend = new FakeChainsBackend();
    const own = await startLocalEtcd({ chains: ownBackend });
    const client = rawChainsClient(own.server.address);
    try {
      await call(client, 'Create', { name: 'closing', replicas: 1 });
      const stream = client.Subscribe({ name: 'closing', from_offset: 0 });
      const ended = new Promise<string>((resolve) => {
        stream.on('error', (error: grpc.ServiceError) => resolve(`error ${error.code}`));
        stream.on('end', () => resolve('end'));
      });
      stream.on('data', () => {});
      await until(() => ownBackend.openSubscriptions === 1, 'the subscription to open');
      await own.close();
      expect(await ended).toBe('end');
      expect(ownBackend.openSubscriptions).toBe(0);
    } finally {
      client.close();
    }
  });
});

describe('a server without a chains backend', () => {
  it('answers UNIMPLEMENTED', async () => {
    const bare = await startLocalEtcd();
    const client = rawChainsClient(bare.server.address);
    try {
      const error = await failure(call(client, 'List', {}));
      expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      client.close();
      await bare.close();
    }
  });
});
