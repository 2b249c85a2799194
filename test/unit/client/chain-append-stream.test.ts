/**
 * The client's append streams over a client port with the fake backend: `client.chains.append`
 * goes on one AppendStream per node (a too-large append, or a node without AppendStream, as a
 * unary call); a stream holds at most its bound in flight and the rest wait for room in order;
 * an append waiting past its deadline was never sent; one sent and unanswered by its deadline,
 * or cut off by the stream breaking, has an unknown outcome and is never sent again.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ChainsPortService,
  type ClientPortServer,
  chainsPortService,
  startClientPortServer,
} from '../../../src/api/index.js';
import { ChainNotLeaderError } from '../../../src/chains/index.js';
import { ChainAppendStream } from '../../../src/client/chain-append-stream.js';
import { EndpointConnection } from '../../../src/client/endpoint.js';
import { bytesToText, MeshClient, type MeshClientError } from '../../../src/client/index.js';
import { SystemClock } from '../../../src/lib/index.js';
import { silentLogger } from '../../../src/lib/node/index.js';
import { MAX_APPEND_STREAM_IN_FLIGHT_APPENDS } from '../../../src/protocol/index.js';
import { rejection } from '../../support/etcd-harness.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { until } from '../../support/until.js';

const CHAIN = 'piped';

let backend: FakeChainsBackend;
let service: ChainsPortService;
let port: ClientPortServer;
const closers: (() => void)[] = [];
let release: () => void = () => {};

async function startPort(withoutAppendStream = false): Promise<void> {
  backend = new FakeChainsBackend();
  service = chainsPortService(backend, silentLogger);
  const implementation = { ...service.implementation };
  if (withoutAppendStream) delete implementation.AppendStream;
  port = await startClientPortServer({
    address: '127.0.0.1:0',
    services: [{ ...service, implementation }],
  });
  await backend.create({ name: CHAIN, replicas: 3, acks: 'quorum' });
}

afterEach(async () => {
  release();
  for (const close of closers.splice(0)) close();
  await port.close();
});

function holdAppends(): void {
  release = backend.gateAppends();
}

/** A client of the port recording the path of every call it makes. */
async function recordingClient(): Promise<{ client: MeshClient; paths: string[] }> {
  const paths: string[] = [];
  const record: grpc.Interceptor = (options, nextCall) => {
    paths.push(options.method_definition.path);
    return new grpc.InterceptingCall(nextCall(options));
  };
  const client = await MeshClient.connect({
    endpoints: [port.address],
    discoverLeader: false,
    interceptors: [record],
    timeoutMs: 5_000,
  });
  closers.push(() => client.close());
  return { client, paths };
}

function rawStream(): ChainAppendStream {
  const connection = new EndpointConnection(port.address, [], grpc.credentials.createInsecure());
  const stream = new ChainAppendStream(connection, new SystemClock(), () => {});
  closers.push(() => {
    stream.close();
    connection.close();
  });
  return stream;
}

const payload = (text: string): Uint8Array[] => [Buffer.from(text)];

describe('client.chains.append on append streams', () => {
  beforeEach(() => startPort());

  it('sends appends on one stream, not a call each; a too-large append goes as a unary call', async () => {
    const { client, paths } = await recordingClient();
    for (let count = 0; count < 10; count++) {
      expect(await client.chains.append(CHAIN, `r${count}`)).toEqual({
        epoch: 1,
        firstOffset: count,
        lastOffset: count,
      });
    }
    expect(paths).toEqual(['/meshos.v1.Chains/AppendStream']);
    await client.chains.append(CHAIN, [new Uint8Array(600 * 1024), new Uint8Array(600 * 1024)]);
    expect(paths.at(-1)).toBe('/meshos.v1.Chains/Append');
    const read = await client.chains.read(CHAIN, { limit: 10 });
    expect(read.records.map((record) => bytesToText(record.payload))).toEqual(
      Array.from({ length: 10 }, (_, index) => `r${index}`),
    );
  });

  it('an idle stream is ended (the node ends its side too); the next append opens a new one', async () => {
    const { client, paths } = await recordingClient();
    await client.chains.append(CHAIN, 'before');
    expect(service.appendStreams).toBe(1);
    // APPEND_STREAM_IDLE_CLOSE_MS (2 s) after the last answer the client half-closes.
    await until(() => service.appendStreams === 0, 'the idle stream to end');
    expect(await client.chains.append(CHAIN, 'after')).toMatchObject({ firstOffset: 1 });
    expect(paths).toEqual(['/meshos.v1.Chains/AppendStream', '/meshos.v1.Chains/AppendStream']);
  });

  it('an append refused unwritten on the stream is sent again and written once', async () => {
    const { client } = await recordingClient();
    backend.failNext('append', new ChainNotLeaderError(CHAIN, 2, 3));
    expect(await client.chains.append(CHAIN, 'once')).toEqual({ epoch: 1, firstOffset: 0, lastOffset: 0 });
    expect(backend.appendCalls).toBe(2);
    expect((await client.chains.read(CHAIN)).records.length).toBe(1);
  });

  it('an append cut off by the stream breaking has an unknown outcome and is not sent again', async () => {
    const { client } = await recordingClient();
    holdAppends();
    const cutOff = rejection(client.chains.append(CHAIN, 'cut off'));
    await until(() => backend.appendCalls === 1, 'the append to reach the node');
    client.chains.close();
    const error = await cutOff;
    expect([error.code, error.retryable]).toEqual(['CHAIN_APPEND_OUTCOME_UNKNOWN', false]);
    release();
    expect(backend.appendCalls).toBe(1);
  });
});

describe('one append stream', () => {
  beforeEach(() => startPort());

  it('holds at most MAX_APPEND_STREAM_IN_FLIGHT_APPENDS in flight; the rest wait for room and go in order', async () => {
    holdAppends();
    const stream = rawStream();
    const total = MAX_APPEND_STREAM_IN_FLIGHT_APPENDS + 10;
    const appends = Array.from({ length: total }, (_, index) =>
      stream.append(CHAIN, payload(`r${index}`), 10_000),
    );
    expect([stream.inFlight, stream.waitingCount]).toEqual([MAX_APPEND_STREAM_IN_FLIGHT_APPENDS, 10]);
    await until(() => backend.appendCalls === MAX_APPEND_STREAM_IN_FLIGHT_APPENDS, 'the stream to fill');
    release();
    const results = await Promise.all(appends);
    expect(new Set(results.map((result) => result.firstOffset)).size).toBe(total);
    // The ten that waited went out after the rest, in the order they were made.
    const waited = results.slice(MAX_APPEND_STREAM_IN_FLIGHT_APPENDS).map((result) => result.firstOffset);
    expect(waited).toEqual([...waited].sort((a, b) => a - b));
    expect(Math.min(...waited)).toBeGreaterThanOrEqual(MAX_APPEND_STREAM_IN_FLIGHT_APPENDS);
    expect([stream.inFlight, stream.waitingCount]).toEqual([0, 0]);
  });

  it('an append that waits for room past its deadline fails unsent (CHAIN_OVERLOADED, retryable)', async () => {
    holdAppends();
    const stream = rawStream();
    const held = Array.from({ length: MAX_APPEND_STREAM_IN_FLIGHT_APPENDS }, (_, index) =>
      stream.append(CHAIN, payload(`held${index}`), 10_000),
    );
    const waiting = await rejection(stream.append(CHAIN, payload('waits'), 100));
    expect([waiting.code, waiting.retryable]).toEqual(['CHAIN_OVERLOADED', true]);
    release();
    await Promise.all(held);
    expect(backend.appendCalls).toBe(MAX_APPEND_STREAM_IN_FLIGHT_APPENDS);
  });

  it('an append sent and not answered by its deadline has an unknown outcome; its room is held until the node answers', async () => {
    holdAppends();
    const stream = rawStream();
    const late = await rejection(stream.append(CHAIN, payload('late'), 200));
    expect([late.code, late.retryable]).toEqual(['CHAIN_APPEND_OUTCOME_UNKNOWN', false]);
    expect(stream.inFlight).toBe(1);
    release();
    await until(() => stream.inFlight === 0, 'the node to answer the late append');
    expect(backend.appendCalls).toBe(1);
  });

  it('a broken stream: appends in flight fail as outcome unknown, those waiting for room as not sent', async () => {
    holdAppends();
    const stream = rawStream();
    const sent = Array.from({ length: MAX_APPEND_STREAM_IN_FLIGHT_APPENDS }, (_, index) =>
      rejection(stream.append(CHAIN, payload(`sent${index}`), 10_000)),
    );
    const waiting = rejection(stream.append(CHAIN, payload('waiting'), 10_000));
    await until(
      () => backend.appendCalls === MAX_APPEND_STREAM_IN_FLIGHT_APPENDS,
      'the appends to reach the node',
    );
    stream.close();
    const sentErrors: MeshClientError[] = await Promise.all(sent);
    expect(new Set(sentErrors.map((error) => `${error.code}/${error.retryable}`))).toEqual(
      new Set(['CHAIN_APPEND_OUTCOME_UNKNOWN/false']),
    );
    const waited = await waiting;
    expect([waited.code, waited.retryable]).toEqual(['UNAVAILABLE', true]);
    expect(stream.accepting).toBe(false);
  });
});

describe('a node without AppendStream', () => {
  beforeEach(() => startPort(true));

  it('appends go as unary calls once the node refused the stream', async () => {
    const { client, paths } = await recordingClient();
    expect(await client.chains.append(CHAIN, 'first')).toMatchObject({ firstOffset: 0 });
    expect(await client.chains.append(CHAIN, 'second')).toMatchObject({ firstOffset: 1 });
    expect(paths).toEqual([
      '/meshos.v1.Chains/AppendStream',
      '/meshos.v1.Chains/Append',
      '/meshos.v1.Chains/Append',
    ]);
    expect(backend.appendCalls).toBe(2);
  });
});
