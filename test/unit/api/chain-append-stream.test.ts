/**
 * `meshos.v1.Chains/AppendStream` on a client port over the fake backend, spoken to with a raw
 * stream: appends pipelined with ids are answered by id (offsets, or that append's own typed
 * failure while the stream goes on), the node takes at most the stream's bound in flight and reads
 * on as answers go out, a broken protocol ends the stream, and a closing port answers what it
 * took, refuses the rest unwritten and ends the stream.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ChainsPortService,
  type ClientPortServer,
  chainsPortService,
  startClientPortServer,
} from '../../../src/api/index.js';
import { DEFAULT_CHAIN_APPEND_TIMEOUT_MS } from '../../../src/api/limits.js';
import { PermissionDeniedError } from '../../../src/auth/index.js';
import { EndpointConnection } from '../../../src/client/endpoint.js';
import { silentLogger } from '../../../src/lib/node/index.js';
import {
  MAX_APPEND_STREAM_IN_FLIGHT_APPENDS,
  MAX_APPEND_STREAM_IN_FLIGHT_BYTES,
  type PbAppendStreamResponse,
} from '../../../src/protocol/index.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { until } from '../../support/until.js';

const CHAIN = 'streamed';

interface RawStream {
  readonly call: grpc.ClientDuplexStream<unknown, unknown>;
  readonly answers: Map<string, PbAppendStreamResponse>;
  readonly status: Promise<grpc.StatusObject>;
  send(
    id: number,
    payloads: readonly (string | Uint8Array)[],
    options?: { name?: string; timeoutMs?: number },
  ): void;
}

let backend: FakeChainsBackend;
let service: ChainsPortService;
let port: ClientPortServer;
let connection: EndpointConnection;
/** Opens the gate of appends held by `holdAppends()`. */
let release: () => void = () => {};

beforeEach(async () => {
  backend = new FakeChainsBackend();
  service = chainsPortService(backend, silentLogger);
  port = await startClientPortServer({ address: '127.0.0.1:0', services: [service] });
  connection = new EndpointConnection(port.address, [], grpc.credentials.createInsecure());
  await backend.create({ name: CHAIN, replicas: 3, acks: 'quorum' });
});

afterEach(async () => {
  release();
  connection.close();
  await port.close();
});

function holdAppends(): void {
  release = backend.gateAppends();
}

function openStream(): RawStream {
  const call = connection.duplex('chains', 'AppendStream', new grpc.Metadata());
  const answers = new Map<string, PbAppendStreamResponse>();
  call.on('data', (response: PbAppendStreamResponse) => answers.set(String(response.request_id), response));
  call.on('error', () => {});
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  return {
    call,
    answers,
    status,
    send(id, payloads, options = {}) {
      call.write({
        request_id: id,
        name: options.name ?? CHAIN,
        payloads: payloads.map((payload) => (typeof payload === 'string' ? Buffer.from(payload) : payload)),
        timeout_ms: options.timeoutMs ?? 0,
      });
    },
  };
}

/** A round trip on the same connection: what the stream could send before it has reached the node. */
async function barrier(): Promise<void> {
  await connection.unary(
    'chains',
    'Status',
    { name: CHAIN },
    new grpc.Metadata(),
    new Date(Date.now() + 5_000),
  );
}

describe('AppendStream on a node', () => {
  it("answers each pipelined append by its id: offsets, or that append's own typed failure, the stream going on", async () => {
    const stream = openStream();
    stream.send(1, ['a']);
    stream.send(2, ['x'], { name: 'missing' });
    stream.send(3, []);
    stream.send(4, ['b', 'c'], { timeoutMs: 700 });
    await until(() => stream.answers.size === 4, 'four answers');
    expect(stream.answers.get('1')).toMatchObject({
      epoch: '1',
      first_offset: '0',
      last_offset: '0',
      failure: null,
    });
    expect(stream.answers.get('2')?.failure).toMatchObject({
      code: 'CHAIN_NOT_FOUND',
      status: grpc.status.NOT_FOUND,
    });
    expect(JSON.parse(stream.answers.get('2')?.failure?.details_json ?? '')).toEqual({ name: 'missing' });
    expect(stream.answers.get('3')?.failure).toMatchObject({
      code: 'VALIDATION_FAILED',
      status: grpc.status.INVALID_ARGUMENT,
    });
    expect(stream.answers.get('3')?.failure?.message).toContain('payloads is empty');
    expect(stream.answers.get('4')).toMatchObject({ first_offset: '1', last_offset: '2', failure: null });
    // timeout_ms 0 is the default budget; the empty append never reached the backend.
    expect(backend.appendTimeoutsMs).toEqual([
      DEFAULT_CHAIN_APPEND_TIMEOUT_MS,
      DEFAULT_CHAIN_APPEND_TIMEOUT_MS,
      700,
    ]);
    stream.call.end();
    expect((await stream.status).code).toBe(grpc.status.OK);
    await until(() => service.appendStreams === 0, 'the session to end');
  });

  it('takes at most MAX_APPEND_STREAM_IN_FLIGHT_APPENDS in flight and reads on as answers go out', async () => {
    holdAppends();
    const stream = openStream();
    const total = MAX_APPEND_STREAM_IN_FLIGHT_APPENDS + 40;
    for (let id = 1; id <= total; id++) stream.send(id, [`r${id}`]);
    await until(() => backend.appendCalls === MAX_APPEND_STREAM_IN_FLIGHT_APPENDS, 'the stream to fill');
    await barrier();
    expect(backend.appendCalls).toBe(MAX_APPEND_STREAM_IN_FLIGHT_APPENDS);
    release();
    await until(() => stream.answers.size === total, 'every append answered');
    const offsets = [...stream.answers.values()]
      .map((answer) => Number(answer.first_offset))
      .sort((a, b) => a - b);
    expect(offsets).toEqual(Array.from({ length: total }, (_, index) => index));
    stream.call.end();
    await stream.status;
  });

  it('takes at most MAX_APPEND_STREAM_IN_FLIGHT_BYTES of payload in flight', async () => {
    holdAppends();
    const stream = openStream();
    const recordBytes = 1024 * 1024;
    const fit = MAX_APPEND_STREAM_IN_FLIGHT_BYTES / recordBytes;
    for (let id = 1; id <= fit + 4; id++) stream.send(id, [new Uint8Array(recordBytes)]);
    await until(() => backend.appendCalls === fit, 'the stream to fill');
    await barrier();
    expect(backend.appendCalls).toBe(fit);
    release();
    await until(() => stream.answers.size === fit + 4, 'every append answered');
    stream.call.end();
    await stream.status;
  });

  it('a request id already in flight (or 0) breaks the protocol: the stream ends with INVALID_ARGUMENT', async () => {
    holdAppends();
    const repeated = openStream();
    repeated.send(7, ['a']);
    repeated.send(7, ['b']);
    const status = await repeated.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.metadata.get('meshos-error-code')).toEqual(['VALIDATION_FAILED']);
    expect(status.details).toContain('request_id 7');
    const zero = openStream();
    zero.send(0, ['a']);
    expect((await zero.status).code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('a closing port answers the appends it took, refuses new ones unwritten, then ends the stream', async () => {
    holdAppends();
    const stream = openStream();
    stream.send(1, ['taken']);
    await until(() => backend.appendCalls === 1, 'the append to reach the backend');
    service.close?.();
    stream.send(2, ['refused']);
    await until(() => stream.answers.has('2'), 'the refusal');
    expect(stream.answers.get('2')?.failure).toMatchObject({
      code: 'CHAIN_UNAVAILABLE',
      status: grpc.status.UNAVAILABLE,
    });
    release();
    expect((await stream.status).code).toBe(grpc.status.OK);
    expect(stream.answers.get('1')).toMatchObject({ first_offset: '0', failure: null });
    expect(backend.appendCalls).toBe(1);
  });

  it('a client that cancels ends its session', async () => {
    holdAppends();
    const stream = openStream();
    stream.send(1, ['a']);
    await until(
      () => service.appendStreams === 1 && backend.appendCalls === 1,
      'the session to hold the append',
    );
    stream.call.cancel();
    await until(() => service.appendStreams === 0, 'the session to end');
  });
});

describe('AppendStream with a caller check that may wait (a worker asking its control plane)', () => {
  it('keeps the appends in the order they came, and a refused one does not hold the rest', async () => {
    let open: () => void = () => {};
    const firstCheck = new Promise<void>((resolve) => {
      open = resolve;
    });
    let checks = 0;
    const waitingService = chainsPortService(backend, silentLogger, (_metadata, _access, _kind, name) => {
      checks += 1;
      if (name === 'forbidden') throw new PermissionDeniedError('reader', `append ${name}`);
      // The first check has to ask; the ones after it are answered at once.
      return checks === 1 ? firstCheck : undefined;
    });
    const waitingPort = await startClientPortServer({ address: '127.0.0.1:0', services: [waitingService] });
    const waitingConnection = new EndpointConnection(
      waitingPort.address,
      [],
      grpc.credentials.createInsecure(),
    );
    try {
      const call = waitingConnection.duplex('chains', 'AppendStream', new grpc.Metadata());
      const answers = new Map<string, PbAppendStreamResponse>();
      call.on('data', (response: PbAppendStreamResponse) =>
        answers.set(String(response.request_id), response),
      );
      call.on('error', () => {});
      const send = (id: number, payload: string, name = CHAIN) =>
        call.write({ request_id: id, name, payloads: [Buffer.from(payload)], timeout_ms: 0 });
      send(1, 'a');
      send(2, 'b');
      send(3, 'x', 'forbidden');
      send(4, 'c');
      // A round trip on the same connection: the four appends have reached the node by its answer.
      await waitingConnection.unary(
        'chains',
        'Status',
        { name: CHAIN },
        new grpc.Metadata(),
        new Date(Date.now() + 5_000),
      );
      // All wait behind the first check, none written yet.
      expect(answers.size).toBe(0);
      expect(backend.appendTimeoutsMs).toEqual([]);
      open();
      await until(() => answers.size === 4, 'four answers');
      expect(['1', '2', '4'].map((id) => answers.get(id)?.first_offset)).toEqual(['0', '1', '2']);
      expect(answers.get('3')?.failure).toMatchObject({ code: 'AUTH_PERMISSION_DENIED' });
      call.end();
    } finally {
      waitingConnection.close();
      await waitingPort.close();
    }
  });
});
