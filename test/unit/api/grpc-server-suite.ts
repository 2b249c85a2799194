/**
 * The tests of MeshOS's gRPC server, run on either HTTP/2 (`grpc-server.test.ts` on node:http2,
 * `grpc-server-own-http2.test.ts` on MeshOS's own).
 *
 * MeshOS's gRPC server (src/api/grpc-server) against grpc-js's client and raw node:http2 requests
 * over 127.0.0.1: the four call kinds, statuses with their messages and trailers, deadlines,
 * cancellation, size limits, compression, refusals, write backpressure and graceful close. The
 * test service codes its messages as JSON: the server only frames bytes, the coding is the
 * definition's.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GrpcServer } from '../../../src/api/grpc-server/index.js';
import type { HeaderCodec } from '../../../src/api/http2/header-codec.js';
import { nodeHttp2Call } from '../../support/node-http2-call.js';
import { until } from '../../support/until.js';

const LIMIT_BYTES = 64 * 1024;
/** 12.5 MiB in all: far more than a paused client's windows and buffers can take. */
const FLOOD_MESSAGES = 400;

interface Message {
  readonly text: string;
  readonly pad?: string;
}

const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): Message => JSON.parse(bytes.toString()) as Message,
};

function method(name: string, requestStream: boolean, responseStream: boolean) {
  return {
    path: `/test.Echo/${name}`,
    requestStream,
    responseStream,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  };
}

const definition: grpc.ServiceDefinition = {
  Echo: method('Echo', false, false),
  Hold: method('Hold', false, false),
  Fail: method('Fail', false, false),
  Count: method('Count', false, true),
  Flood: method('Flood', false, true),
  Join: method('Join', true, false),
  Gather: method('Gather', true, false),
  Chat: method('Chat', true, true),
};

/** What the handlers saw, for the tests to wait on. */
const seen = {
  holding: [] as { call: { cancelled: boolean }; answer: (error: unknown, value?: Message) => void }[],
  cancelledStreams: 0,
  closedStreams: 0,
  flood: { refusals: 0, drains: 0, handedOff: 0 },
  chatRelease: undefined as (() => void) | undefined,
};

type AnyCall = grpc.ServerUnaryCall<Message, Message>;

const implementation: grpc.UntypedServiceImplementation = {
  Echo: (call: AnyCall, callback: grpc.sendUnaryData<Message>) => {
    const [client] = call.metadata.get('meshos-client-id');
    const deadline = call.getDeadline();
    callback(null, {
      text: `${call.request.text}|${String(client ?? '')}|${Number.isFinite(deadline) ? 'deadline' : 'none'}`,
    });
  },
  Hold: (call: AnyCall, callback: grpc.sendUnaryData<Message>) => {
    seen.holding.push({ call, answer: callback as (error: unknown, value?: Message) => void });
  },
  Fail: (call: AnyCall, callback: grpc.sendUnaryData<Message>) => {
    const metadata = new grpc.Metadata();
    metadata.set('meshos-error-code', 'KV_TEST');
    metadata.set('detail-bin', Buffer.from([0, 1, 2, 255]));
    callback(
      Object.assign(new Error('ignored'), {
        code: grpc.status.FAILED_PRECONDITION,
        details: `${call.request.text}: 100% schön\nnext line`,
        metadata,
      }),
    );
  },
  Count: (call: grpc.ServerWritableStream<Message, Message>) => {
    const count = Number(call.request.text);
    for (let index = 0; index < count; index++) call.write({ text: String(index) });
    if (call.metadata.get('fail-after').length > 0)
      call.emit('error', { code: grpc.status.ABORTED, details: 'stopped on purpose' });
    else call.end();
  },
  // Writes FLOOD_MESSAGES messages of 32 KiB as fast as backpressure lets it: until write()
  // answers false, then again on each 'drain'.
  Flood: (call: grpc.ServerWritableStream<Message, Message>) => {
    call.once('cancelled', () => seen.cancelledStreams++);
    call.once('close', () => seen.closedStreams++);
    const pad = 'x'.repeat(32 * 1024);
    let written = 0;
    const fill = (): void => {
      while (written < FLOOD_MESSAGES) {
        written++;
        const accepted = call.write({ text: String(written), pad }, () => seen.flood.handedOff++);
        if (!accepted) {
          seen.flood.refusals++;
          call.once('drain', () => {
            seen.flood.drains++;
            fill();
          });
          return;
        }
      }
      call.end();
    };
    fill();
  },
  Join: (call: grpc.ServerReadableStream<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
    const texts: string[] = [];
    call.on('data', (message: Message) => texts.push(message.text));
    call.on('end', () => callback(null, { text: texts.join('+') }));
  },
  // As the blobs Put reads its chunks: async iteration, which destroys the call's stream when done.
  Gather: (call: grpc.ServerReadableStream<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
    (async () => {
      let bytes = 0;
      let messages = 0;
      for await (const message of call as AsyncIterable<Message>) {
        messages++;
        bytes += message.pad?.length ?? 0;
      }
      callback(null, { text: `${messages} messages, ${bytes} bytes` });
    })().catch((error: unknown) => callback(error as grpc.ServiceError));
  },
  Chat: (call: grpc.ServerDuplexStream<Message, Message>) => {
    call.once('cancelled', () => seen.cancelledStreams++);
    call.on('data', (message: Message) => {
      call.write({ text: `re:${message.text}` });
      if (message.text === 'pause') {
        call.pause();
        seen.chatRelease = () => call.resume();
      }
    });
    call.on('end', () => call.end());
  },
};

/** The HPACK coding of the own HTTP/2 when the suite runs on it; node:http2 when undefined. */
let ownHttp2: HeaderCodec | undefined;

function newServer(): GrpcServer {
  return new GrpcServer({
    maxReceiveMessageBytes: LIMIT_BYTES,
    maxSendMessageBytes: LIMIT_BYTES,
    ...(ownHttp2 === undefined ? {} : { ownHttp2 }),
  });
}

let server: GrpcServer;
let listener: net.Server;
let address: string;
const EchoClient = grpc.makeGenericClientConstructor(definition, 'Echo');
let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

function startServer(): Promise<void> {
  server = newServer();
  server.addService(definition, implementation);
  listener = net.createServer((socket) => server.injectConnection(socket));
  return new Promise((resolve) =>
    listener.listen(0, '127.0.0.1', () => {
      address = `127.0.0.1:${(listener.address() as net.AddressInfo).port}`;
      resolve();
    }),
  );
}

function unary(
  name: string,
  request: Message,
  options: { metadata?: grpc.Metadata; deadlineMs?: number } = {},
) {
  return new Promise<Message>((resolve, reject) => {
    const callOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
    client[name]?.(
      request,
      options.metadata ?? new grpc.Metadata(),
      callOptions,
      (error: unknown, value: Message) => (error === null ? resolve(value) : reject(error)),
    );
  });
}

function failureOf(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => {
      throw new Error('the call succeeded');
    },
    (error: grpc.ServiceError) => error,
  );
}

/** One raw HTTP/2 request: its response headers, body and trailers (or headers of a trailers-only answer). */
async function rawCall(
  path: string,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer,
): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: Buffer }> {
  const session = http2.connect(`http://${address}`);
  try {
    return await nodeHttp2Call(
      session,
      { ':method': 'POST', ':path': path, te: 'trailers', ...headers },
      body,
    );
  } finally {
    session.close();
  }
}

function framed(message: Message, compressedWith?: (bytes: Buffer) => Buffer): Buffer {
  const bytes = json.serialize(message);
  const payload = compressedWith === undefined ? bytes : compressedWith(bytes);
  const prefix = Buffer.alloc(5);
  prefix[0] = compressedWith === undefined ? 0 : 1;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

const GRPC_HEADERS = { 'content-type': 'application/grpc' };

/** grpc-status wherever it came: trailers, or the headers of a trailers-only answer. */
function statusOf(answer: { headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders }) {
  return Number(answer.trailers['grpc-status'] ?? answer.headers['grpc-status']);
}

/** Defines the suite's tests, on node:http2 or, given its HPACK coding, on the own HTTP/2. */
export function grpcServerSuite(codec?: HeaderCodec): void {
  ownHttp2 = codec;
  beforeAll(async () => {
    await startServer();
    client = new EchoClient(address, grpc.credentials.createInsecure()) as typeof client;
  });

  afterAll(async () => {
    client?.close();
    listener?.close();
    await server?.close(1_000);
  });

  afterEach(() => {
    for (const held of seen.holding.splice(0)) held.answer(null, { text: 'released' });
  });

  describe('unary calls', () => {
    it('answer with the handler value, reading metadata and the deadline the client sent', async () => {
      const metadata = new grpc.Metadata();
      metadata.set('meshos-client-id', 'c-1');
      expect(await unary('Echo', { text: 'hi' }, { metadata })).toEqual({ text: 'hi|c-1|none' });
      expect(await unary('Echo', { text: 'hi' }, { deadlineMs: 10_000 })).toEqual({ text: 'hi||deadline' });
    });

    it('send a failure as its status: code, percent-encoded message and the trailers, as grpc-js reads them', async () => {
      const error = await failureOf(unary('Fail', { text: 'nope' }));
      expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(error.details).toBe('nope: 100% schön\nnext line');
      expect(error.metadata.get('meshos-error-code')).toEqual(['KV_TEST']);
      expect(error.metadata.get('detail-bin')).toEqual([Buffer.from([0, 1, 2, 255])]);

      const raw = await rawCall('/test.Echo/Fail', GRPC_HEADERS, framed({ text: 'x' }));
      expect(raw.headers['grpc-message']).toBe('x: 100%25 sch%C3%B6n%0Anext line');
      expect(raw.headers['grpc-status']).toBe(String(grpc.status.FAILED_PRECONDITION));
    });

    it('answer a success with grpc-js headers and trailers, and many calls on one connection', async () => {
      const raw = await rawCall('/test.Echo/Echo', GRPC_HEADERS, framed({ text: 'a' }));
      expect(raw.headers[':status']).toBe(200);
      expect(raw.headers['content-type']).toBe('application/grpc+proto');
      expect(raw.trailers).toMatchObject({ 'grpc-status': '0', 'grpc-message': 'OK' });
      expect(json.deserialize(raw.body.subarray(5))).toEqual({ text: 'a||none' });
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, index) => unary('Echo', { text: `${index}` })),
      );
      expect(answers.map((answer) => answer.text.split('|')[0])).toEqual(
        Array.from({ length: 50 }, (_, i) => `${i}`),
      );
    });

    it('take a request split across DATA frames', async () => {
      const whole = framed({ text: 'split', pad: 'y'.repeat(40_000) });
      const session = http2.connect(`http://${address}`);
      try {
        const answer = await new Promise<Buffer>((resolve, reject) => {
          const request = session.request({ ':method': 'POST', ':path': '/test.Echo/Echo', ...GRPC_HEADERS });
          const chunks: Buffer[] = [];
          request.on('data', (chunk: Buffer) => chunks.push(chunk));
          request.on('end', () => resolve(Buffer.concat(chunks)));
          request.on('error', reject);
          request.write(whole.subarray(0, 3));
          request.write(whole.subarray(3, 20_000));
          request.end(whole.subarray(20_000));
        });
        expect(json.deserialize(answer.subarray(5)).text).toBe('split||none');
      } finally {
        session.close();
      }
    });

    it("send an answer far beyond the client's windows as the client opens them", async () => {
      const text = 'w'.repeat(60_000);
      // A 1 KiB stream window: the answer leaves in ~60 rounds of WINDOW_UPDATE.
      const session = http2.connect(`http://${address}`, { settings: { initialWindowSize: 1024 } });
      try {
        const answer = await new Promise<Buffer>((resolve, reject) => {
          const request = session.request({ ':method': 'POST', ':path': '/test.Echo/Echo', ...GRPC_HEADERS });
          const chunks: Buffer[] = [];
          request.on('data', (chunk: Buffer) => chunks.push(chunk));
          request.on('end', () => resolve(Buffer.concat(chunks)));
          request.on('error', reject);
          request.end(framed({ text }));
        });
        expect(json.deserialize(answer.subarray(5)).text).toBe(`${text}||none`);
      } finally {
        session.close();
      }
    });

    it('answer many concurrent calls on one connection', async () => {
      const answers = await Promise.all(
        Array.from({ length: 300 }, (_, index) => unary('Echo', { text: String(index) })),
      );
      expect(answers.map((answer) => answer.text)).toEqual(
        Array.from({ length: 300 }, (_, index) => `${index}||none`),
      );
    });

    it('end with DEADLINE_EXCEEDED from the server when the client deadline passes, and mark the call cancelled', async () => {
      const raw = rawCall(
        '/test.Echo/Hold',
        { ...GRPC_HEADERS, 'grpc-timeout': '200m' },
        framed({ text: 'h' }),
      );
      expect(statusOf(await raw)).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(seen.holding[0]?.call.cancelled).toBe(true);
    });

    it('mark a call cancelled when its client cancels it', async () => {
      const call = client.Hold?.({ text: 'c' }, () => {}) as grpc.ClientUnaryCall;
      await until(() => seen.holding.length === 1, 'the held call');
      call.cancel();
      await until(() => seen.holding[0]?.call.cancelled === true, 'the cancel to reach the server');
    });

    it('refuse a request over the receive limit with RESOURCE_EXHAUSTED', async () => {
      const error = await failureOf(unary('Echo', { text: 'big', pad: 'z'.repeat(LIMIT_BYTES + 1) }));
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(await unary('Echo', { text: 'after' })).toEqual({ text: 'after||none' });
    });

    it('inflate gzip and deflate requests and refuse an unknown encoding with UNIMPLEMENTED', async () => {
      const gzip = await rawCall(
        '/test.Echo/Echo',
        { ...GRPC_HEADERS, 'grpc-encoding': 'gzip' },
        framed({ text: 'g' }, (bytes) => zlib.gzipSync(bytes)),
      );
      expect(json.deserialize(gzip.body.subarray(5)).text).toBe('g||none');
      const deflate = await rawCall(
        '/test.Echo/Echo',
        { ...GRPC_HEADERS, 'grpc-encoding': 'deflate' },
        framed({ text: 'd' }, (bytes) => zlib.deflateSync(bytes)),
      );
      expect(json.deserialize(deflate.body.subarray(5)).text).toBe('d||none');
      const unknown = await rawCall(
        '/test.Echo/Echo',
        { ...GRPC_HEADERS, 'grpc-encoding': 'snappy' },
        framed({ text: 's' }, (bytes) => bytes),
      );
      expect(statusOf(unknown)).toBe(grpc.status.UNIMPLEMENTED);
      const bomb = await rawCall(
        '/test.Echo/Echo',
        { ...GRPC_HEADERS, 'grpc-encoding': 'gzip' },
        framed({ text: 'b', pad: 'q'.repeat(LIMIT_BYTES * 2) }, (bytes) => zlib.gzipSync(bytes)),
      );
      expect(statusOf(bomb)).toBe(grpc.status.RESOURCE_EXHAUSTED);
    });

    it('accept a grpc-js client that compresses with gzip', async () => {
      const gzipClient = new EchoClient(address, grpc.credentials.createInsecure(), {
        'grpc.default_compression_algorithm': 2,
      }) as typeof client;
      try {
        const answer = await new Promise<Message>((resolve, reject) =>
          gzipClient.Echo?.({ text: 'zipped', pad: 'p'.repeat(2_000) }, (error: unknown, value: Message) =>
            error === null ? resolve(value) : reject(error),
          ),
        );
        expect(answer.text).toBe('zipped||none');
      } finally {
        gzipClient.close();
      }
    });
  });

  describe('refusals', () => {
    it('answer an unknown method with UNIMPLEMENTED, trailers-only', async () => {
      const raw = await rawCall('/test.Echo/Missing', GRPC_HEADERS, framed({ text: 'm' }));
      expect(raw.headers['grpc-status']).toBe(String(grpc.status.UNIMPLEMENTED));
      expect(raw.headers['grpc-message']).toContain('/test.Echo/Missing');
      expect(raw.body.length).toBe(0);
    });

    it('answer a request that is not gRPC with HTTP 415', async () => {
      const raw = await rawCall('/test.Echo/Echo', { 'content-type': 'application/json' }, Buffer.from('{}'));
      expect(raw.headers[':status']).toBe(415);
    });

    it('refuse a malformed grpc-timeout, and answer a call without a message', async () => {
      const badTimeout = await rawCall(
        '/test.Echo/Echo',
        { ...GRPC_HEADERS, 'grpc-timeout': '1x' },
        framed({ text: 't' }),
      );
      expect(statusOf(badTimeout)).toBe(grpc.status.INTERNAL);
      const empty = await rawCall('/test.Echo/Echo', GRPC_HEADERS, Buffer.alloc(0));
      expect(statusOf(empty)).toBe(grpc.status.UNIMPLEMENTED);
    });

    it('answer keepalive PINGs', async () => {
      const session = http2.connect(`http://${address}`);
      try {
        const acknowledged = await new Promise<boolean>((resolve) => {
          session.once('connect', () => session.ping((error) => resolve(error === null)));
        });
        expect(acknowledged).toBe(true);
      } finally {
        session.close();
      }
    });
  });

  describe('streaming calls', () => {
    it('serve a server stream to its end, and end one with the status the handler emits after its messages', async () => {
      const read = (metadata: grpc.Metadata) =>
        new Promise<{ texts: string[]; error?: grpc.ServiceError }>((resolve) => {
          const texts: string[] = [];
          const call = client.Count?.({ text: '3' }, metadata) as grpc.ClientReadableStream<Message>;
          call.on('data', (message: Message) => texts.push(message.text));
          call.on('error', (error: grpc.ServiceError) => resolve({ texts, error }));
          call.on('end', () => resolve({ texts }));
        });
      expect(await read(new grpc.Metadata())).toEqual({ texts: ['0', '1', '2'] });
      const failing = new grpc.Metadata();
      failing.set('fail-after', 'yes');
      const failed = await read(failing);
      expect(failed.texts).toEqual(['0', '1', '2']);
      expect(failed.error?.code).toBe(grpc.status.ABORTED);
      expect(failed.error?.details).toBe('stopped on purpose');
    });

    it('serve a client stream', async () => {
      const answer = await new Promise<Message>((resolve, reject) => {
        const call = client.Join?.((error: unknown, value: Message) =>
          error === null ? resolve(value) : reject(error),
        ) as grpc.ClientWritableStream<Message>;
        for (const text of ['a', 'b', 'c']) call.write({ text });
        call.end();
      });
      expect(answer).toEqual({ text: 'a+b+c' });
    });

    it('serve a client stream of messages split across DATA frames to a handler that iterates it', async () => {
      const answer = await new Promise<Message>((resolve, reject) => {
        const call = client.Gather?.((error: unknown, value: Message) =>
          error === null ? resolve(value) : reject(error),
        ) as grpc.ClientWritableStream<Message>;
        for (let index = 0; index < 40; index++) call.write({ text: String(index), pad: 'g'.repeat(50_000) });
        call.end();
      });
      expect(answer).toEqual({ text: `40 messages, ${40 * 50_000} bytes` });
    });

    it('serve a bidirectional stream, whose handler may pause reading and resume', async () => {
      const call = client.Chat?.() as grpc.ClientDuplexStream<Message, Message>;
      const texts: string[] = [];
      const ended = new Promise<void>((resolve) => call.on('end', () => resolve()));
      call.on('data', (message: Message) => texts.push(message.text));
      call.on('error', () => {});
      call.write({ text: 'pause' });
      call.write({ text: 'one' });
      await until(() => texts.length === 1 && seen.chatRelease !== undefined, 'the paused stream');
      expect(texts).toEqual(['re:pause']);
      seen.chatRelease?.();
      call.write({ text: 'two' });
      call.end();
      await ended;
      expect(texts).toEqual(['re:pause', 're:one', 're:two']);
    });

    it('tell a bidirectional handler when its client cancels', async () => {
      const before = seen.cancelledStreams;
      const call = client.Chat?.() as grpc.ClientDuplexStream<Message, Message>;
      call.on('error', () => {});
      const first = new Promise<void>((resolve) => call.once('data', () => resolve()));
      call.write({ text: 'hello' });
      await first;
      call.cancel();
      await until(() => seen.cancelledStreams > before, "the handler's 'cancelled'");
    });

    it('hold writes back while the client does not read: write() answers false, then drain once it reads', async () => {
      seen.flood = { refusals: 0, drains: 0, handedOff: 0 };
      const call = client.Flood?.({ text: 'go' }) as grpc.ClientReadableStream<Message>;
      const texts: string[] = [];
      call.on('data', (message: Message) => texts.push(message.text));
      call.pause();
      await until(() => seen.flood.refusals > 0, 'write() to answer false');
      // A paused client's flow-control windows and buffers hold a few messages, not 12.5 MiB.
      expect(seen.flood.handedOff).toBeLessThan(FLOOD_MESSAGES);
      const ended = new Promise<void>((resolve) => call.on('end', () => resolve()));
      call.resume();
      await ended;
      expect(seen.flood.drains).toBeGreaterThan(0);
      expect(texts).toEqual(Array.from({ length: FLOOD_MESSAGES }, (_, index) => String(index + 1)));
    });

    it('stream 12.5 MiB through a client whose windows are 16 KiB, every message whole and in order', async () => {
      const session = http2.connect(`http://${address}`, { settings: { initialWindowSize: 16_384 } });
      try {
        const body = await new Promise<Buffer>((resolve, reject) => {
          const request = session.request({
            ':method': 'POST',
            ':path': '/test.Echo/Flood',
            ...GRPC_HEADERS,
          });
          const chunks: Buffer[] = [];
          request.on('data', (chunk: Buffer) => chunks.push(chunk));
          request.on('end', () => resolve(Buffer.concat(chunks)));
          request.on('error', reject);
          request.end(framed({ text: 'go' }));
        });
        const texts: string[] = [];
        for (let offset = 0; offset < body.length; ) {
          const length = body.readUInt32BE(offset + 1);
          texts.push(json.deserialize(body.subarray(offset + 5, offset + 5 + length)).text);
          offset += 5 + length;
        }
        expect(texts).toEqual(Array.from({ length: FLOOD_MESSAGES }, (_, index) => String(index + 1)));
      } finally {
        session.close();
      }
    });

    it('tell a server-stream handler when its client cancels, and close the call', async () => {
      const cancelled = seen.cancelledStreams;
      const closed = seen.closedStreams;
      seen.flood = { refusals: 0, drains: 0, handedOff: 0 };
      const call = client.Flood?.({ text: 'go' }) as grpc.ClientReadableStream<Message>;
      call.on('error', () => {});
      call.pause();
      await until(() => seen.flood.refusals > 0, 'the server to fill its write buffer');
      call.cancel();
      await until(
        () => seen.cancelledStreams > cancelled && seen.closedStreams > closed,
        "the handler's 'cancelled' and 'close'",
      );
    });
  });

  describe('close', () => {
    /** A server of its own (the suite's stays open), its port and a client of it. */
    async function serverToClose() {
      const closing = newServer();
      closing.addService(definition, implementation);
      const port = net.createServer((socket) => closing.injectConnection(socket));
      await new Promise<void>((resolve) => port.listen(0, '127.0.0.1', () => resolve()));
      const target = `127.0.0.1:${(port.address() as net.AddressInfo).port}`;
      const closingClient = new EchoClient(target, grpc.credentials.createInsecure()) as typeof client;
      return { closing, port, closingClient };
    }

    it('lets calls in flight finish, refuses new ones, and resolves with no connection left', async () => {
      const { closing, port, closingClient } = await serverToClose();
      try {
        const held = new Promise<Message>((resolve, reject) =>
          closingClient.Hold?.({ text: 'h' }, (error: unknown, value: Message) =>
            error === null ? resolve(value) : reject(error),
          ),
        );
        await until(() => seen.holding.length === 1, 'the held call');
        expect(closing.connections).toBe(1);
        const closed = closing.close(30_000);
        const refused = await failureOf(
          new Promise((resolve, reject) =>
            closingClient.Echo?.({ text: 'late' }, (error: unknown, value: Message) =>
              error === null ? resolve(value) : reject(error),
            ),
          ),
        );
        expect(refused.code).toBe(grpc.status.UNAVAILABLE);
        seen.holding.splice(0)[0]?.answer(null, { text: 'finished' });
        expect(await held).toEqual({ text: 'finished' });
        await closed;
        expect(closing.connections).toBe(0);
      } finally {
        closingClient.close();
        port.close();
      }
    });

    it('cuts a call still open when the grace time ends', async () => {
      const { closing, port, closingClient } = await serverToClose();
      try {
        const held = failureOf(
          new Promise((resolve, reject) =>
            closingClient.Hold?.({ text: 'h' }, (error: unknown, value: Message) =>
              error === null ? resolve(value) : reject(error),
            ),
          ),
        );
        await until(() => seen.holding.length === 1, 'the held call');
        await closing.close(100);
        expect(closing.connections).toBe(0);
        expect((await held).code).toBe(grpc.status.UNAVAILABLE);
        await until(() => seen.holding[0]?.call.cancelled === true, 'the cut call to be cancelled');
      } finally {
        closingClient.close();
        port.close();
      }
    });
  });
}
