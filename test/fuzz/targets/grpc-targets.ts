/**
 * The client port: gRPC's length-prefixed messages cut at any point, compressed messages,
 * `grpc-timeout` headers, the HTTP/2 frames and HPACK header blocks the port reads before Node's
 * server, and every request message of every service (etcd's six, Chains, Daemons, Blobs): bytes
 * made from each method's request descriptor and mutated, decoded with the method's own
 * deserializer and handed to the service's implementation (over an in-process KV backend and the
 * fake chains and daemons backends), whose conversion and validation must refuse bad requests
 * with typed errors. An untyped error shows where a service logs one as unexpected.
 */
import { Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { pino } from 'pino';
import type { ClientPortService } from '../../../src/api/client-port-server.js';
import { ClientStreamFilter } from '../../../src/api/client-stream-filter.js';
import { appendStreamRequestFromPb, subscribeRequestFromPb } from '../../../src/api/convert-chains.js';
import { outputsRequestFromPb } from '../../../src/api/convert-daemons.js';
import { int64ToNumber } from '../../../src/api/convert-numbers.js';
import { watchCreateFromPb } from '../../../src/api/convert-watch.js';
import { CallStatusError } from '../../../src/api/grpc-server/call-status-error.js';
import { decodeRequest } from '../../../src/api/grpc-server/decode-request.js';
import {
  frameMessage,
  MessageReader,
  MessageTooLargeError,
  parseGrpcTimeout,
} from '../../../src/api/grpc-server/index.js';
import type { FramedMessage } from '../../../src/api/grpc-server/message-framing.js';
import { HeaderMetadata } from '../../../src/api/grpc-server/request-metadata.js';
import type { ServedMethod } from '../../../src/api/grpc-server/served-methods.js';
import { encodeWithoutIndexing } from '../../../src/api/header-block.js';
import { HPACK_CODEC, ResponseHeaderBlocks } from '../../../src/api/http2/header-codec.js';
import { Http2ServerConnection } from '../../../src/api/http2/server-connection.js';
import { CLIENT_PREFACE, EMPTY_SETTINGS_FRAME, frame } from '../../../src/api/http2-frames.js';
import {
  blobsPortService,
  chainsPortService,
  daemonsPortService,
  etcdPortServices,
} from '../../../src/api/index.js';
import { type Logger, ManualClock, MeshError } from '../../../src/lib/index.js';
import { BLOBS_DESCRIPTOR } from '../../../src/protocol/blobs-proto.js';
import { CHAINS_DESCRIPTOR } from '../../../src/protocol/chains-proto.js';
import { DAEMONS_DESCRIPTOR } from '../../../src/protocol/daemons-proto.js';
import { ETCD_RPC_DESCRIPTOR } from '../../../src/protocol/etcd-rpc-descriptor.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { FakeDaemonsBackend } from '../../support/fake-daemons-backend.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';
import { recordingSocket } from '../../support/recording-socket.js';
import { fuzzTarget } from '../support/fuzz-target.js';
import { cutAt, decoderInputs, join } from '../support/mutations.js';
import { DescriptorIndex, type MessageDescriptor } from '../support/protobuf-wire.js';

/** The receive limit of the fuzzed readers: small, so a claim above it is common. */
const RECEIVE_LIMIT_BYTES = 64 * 1024;
/** A unary call answers at once from these backends; one that does not in this time hangs. */
const ANSWER_DEADLINE_MS = 5_000;

export const grpcMessageFraming = fuzzTarget({
  name: 'gRPC length-prefixed messages',
  fuzzRuns: 80_000,
  typedErrors: [MessageTooLargeError],
  inputs: fc.tuple(
    decoderInputs(
      fc
        .array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 4 })
        .map((messages) => join(messages.map((message) => frameMessage(message)))),
    ),
    fc.array(fc.nat(), { maxLength: 6 }),
  ),
  check: ([bytes, cuts]) => {
    const reader = new MessageReader(RECEIVE_LIMIT_BYTES);
    const messages: FramedMessage[] = [];
    for (const chunk of cutAt(bytes, cuts)) reader.push(Buffer.from(chunk), messages);
  },
});

export const grpcCompressedMessages = fuzzTarget({
  name: 'gRPC compressed request (gzip, deflate)',
  fuzzRuns: 20_000,
  typedErrors: [CallStatusError],
  inputs: fc.tuple(
    fc.constantFrom('gzip', 'deflate', 'identity', 'snappy'),
    decoderInputs(fc.uint8Array({ maxLength: 200 }).map((bytes) => Uint8Array.from(zlib.gzipSync(bytes)))),
  ),
  check: ([encoding, bytes]) => {
    const method = { deserialize: (message: Buffer) => message } as unknown as ServedMethod;
    decodeRequest(method, { compressed: true, bytes: Buffer.from(bytes) }, encoding, RECEIVE_LIMIT_BYTES);
  },
});

export const grpcTimeouts = fuzzTarget({
  name: 'grpc-timeout header',
  fuzzRuns: 20_000,
  inputs: fc.oneof(
    fc.string({ maxLength: 12 }),
    fc
      .tuple(fc.stringMatching(/^\d{0,10}$/), fc.constantFrom('H', 'M', 'S', 'm', 'u', 'n', 'x', ''))
      .map(([digits, unit]) => digits + unit),
  ),
  check: (header) => {
    const timeoutMs = parseGrpcTimeout(header);
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
      throw new Error(`grpc-timeout ${header} read as ${timeoutMs} ms`);
    }
  },
});

/** A client connection's first bytes: the preface, SETTINGS, and HEADERS frames of requests. */
const http2ClientBytes = fc
  .array(
    fc.record({
      authority: fc.oneof(fc.constant('127.0.0.1:2379'), fc.string({ maxLength: 20 })),
      path: fc.constantFrom('/etcdserverpb.KV/Range', '/meshos.v1.Chains/Append'),
      endStream: fc.boolean(),
    }),
    { minLength: 1, maxLength: 3 },
  )
  .map((requests) =>
    join([
      CLIENT_PREFACE,
      EMPTY_SETTINGS_FRAME,
      ...requests.map((request, index) =>
        frame(
          { length: 0, type: 0x1, flags: 0x4 | (request.endStream ? 0x1 : 0), streamId: 2 * index + 1 },
          encodeWithoutIndexing([
            { name: ':method', value: 'POST' },
            { name: ':scheme', value: 'http' },
            { name: ':authority', value: request.authority },
            { name: ':path', value: request.path },
            { name: 'content-type', value: 'application/grpc' },
          ]),
        ),
      ),
    ]),
  );

export const http2ClientFrames = fuzzTarget({
  name: 'client port HTTP/2 frames and HPACK blocks',
  fuzzRuns: 50_000,
  inputs: fc.tuple(decoderInputs(http2ClientBytes, 512), fc.array(fc.nat(), { maxLength: 5 })),
  check: ([bytes, cuts]) => {
    const filter = new ClientStreamFilter();
    for (const chunk of cutAt(bytes, cuts)) filter.push(chunk);
  },
});

/**
 * MeshOS's own HTTP/2 connection fed the same damaged client bytes, cut anywhere: it serves them
 * or ends the connection with a GOAWAY carrying a protocol error code, never INTERNAL_ERROR (a
 * fault of ours, which it turns into a GOAWAY rather than a crash).
 */
export const ownHttp2ClientFrames = fuzzTarget({
  name: 'own HTTP/2 connection frames and HPACK blocks',
  fuzzRuns: 50_000,
  inputs: fc.tuple(decoderInputs(http2ClientBytes, 512), fc.array(fc.nat(), { maxLength: 5 })),
  check: ([bytes, cuts]) => {
    const { socket, written } = recordingSocket();
    const connection = new Http2ServerConnection(socket, {
      codec: HPACK_CODEC,
      blocks: new ResponseHeaderBlocks(HPACK_CODEC),
      onStream: (stream) => stream.respond({ ':status': 200 }, { endStream: true }),
      onClose: () => {},
    });
    for (const chunk of cutAt(bytes, cuts)) socket.emit('data', Buffer.from(chunk));
    connection.flush();
    const sent = Buffer.concat(written);
    for (let offset = 0; offset + 9 <= sent.length; offset += 9 + sent.readUIntBE(offset, 3)) {
      if (sent[offset + 3] === 0x7 && sent.readUInt32BE(offset + 13) === 0x2)
        throw new Error('the connection ended with INTERNAL_ERROR');
    }
    connection.destroy();
  },
});

/** A logger that keeps every error it is given that is not a typed `MeshError` (and writes nothing). */
function untypedErrorLogger(): { logger: Logger; untyped: unknown[] } {
  const untyped: unknown[] = [];
  const logger = pino(
    {
      level: 'trace',
      hooks: {
        logMethod(args, method) {
          const error = (args[0] as { err?: unknown } | undefined)?.err;
          if (error !== undefined && !(error instanceof MeshError)) untyped.push(error);
          return method.apply(this, args);
        },
      },
    },
    new Writable({ write: (_chunk, _encoding, done) => done() }),
  );
  return { logger, untyped };
}

interface ServiceUnderTest {
  readonly name: string;
  readonly port: ClientPortService;
  /** Stream methods: what their handlers do with each request before the stream runs. */
  readonly streamRequests: Readonly<Record<string, (request: never) => unknown>>;
}

function servicesUnderTest(logger: Logger): ServiceUnderTest[] {
  const clock = new ManualClock();
  const kv = new LocalKvBackend({ clock });
  const etcd = etcdPortServices(kv, { logger, clock, progressNotifyIntervalMs: 60_000 }).services;
  const named = (port: ClientPortService): string => Object.values(port.definition)[0]!.path.split('/')[1]!;
  const etcdStreams = {
    Watch: (request: {
      create_request?: Parameters<typeof watchCreateFromPb>[0];
      cancel_request?: { watch_id?: unknown };
    }) => {
      if (request.create_request !== undefined) watchCreateFromPb(request.create_request);
      return String(request.cancel_request?.watch_id ?? '');
    },
    LeaseKeepAlive: (request: { ID?: string }) => int64ToNumber('ID', request.ID),
  };
  const unavailable = new Proxy(
    {},
    { get: () => async () => Promise.reject(new MeshError('UNAVAILABLE', 'no blobs backend in the fuzzer')) },
  );
  return [
    ...etcd.map((port) => ({ name: named(port), port, streamRequests: etcdStreams })),
    {
      name: 'meshos.v1.Chains',
      port: chainsPortService(new FakeChainsBackend(), logger),
      streamRequests: { Subscribe: subscribeRequestFromPb, AppendStream: appendStreamRequestFromPb },
    },
    {
      name: 'meshos.v1.Daemons',
      port: daemonsPortService(new FakeDaemonsBackend(), logger),
      streamRequests: { Outputs: outputsRequestFromPb },
    },
    {
      name: 'meshos.v1.Blobs',
      port: blobsPortService(unavailable as never, logger),
      streamRequests: {},
    },
  ];
}

/**
 * proto-loader's reading of the services' descriptors: unlike the definitions the node serves
 * with, its methods carry each request's descriptor.proto form, which the wire bytes are made from.
 */
const loaderPackages = [ETCD_RPC_DESCRIPTOR, CHAINS_DESCRIPTOR, DAEMONS_DESCRIPTOR, BLOBS_DESCRIPTOR].map(
  (descriptor) => protoLoader.fromJSON(descriptor),
);
const descriptors = new DescriptorIndex(loaderPackages);

type MethodDefinition = grpc.MethodDefinition<unknown, unknown>;

type LoaderMethod = { readonly requestType?: { readonly type?: MessageDescriptor } };

/** The request descriptor of `service`'s method `name`; every served method has one. */
function requestDescriptor(service: string, name: string): MessageDescriptor {
  for (const loaded of loaderPackages) {
    const found = (loaded[service] as Record<string, LoaderMethod> | undefined)?.[name]?.requestType?.type;
    if (found !== undefined) return found;
  }
  throw new Error(`fuzz: no request descriptor for ${service}.${name}`);
}

/** Calls a unary handler as the server does and waits for its answer. */
function callUnary(handler: grpc.handleUnaryCall<unknown, unknown>, request: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer in ${ANSWER_DEADLINE_MS} ms`)),
      ANSWER_DEADLINE_MS,
    );
    const call = { request, metadata: new HeaderMetadata({}), getDeadline: () => Number.POSITIVE_INFINITY };
    handler(call as never, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** One target per service: a method picked, its request bytes, through deserializer and handler. */
function serviceTarget(service: ServiceUnderTest, untyped: unknown[]) {
  const methods = Object.entries(service.port.definition as Record<string, MethodDefinition>);
  const requests = fc.oneof(
    ...methods.map(([name], index) => {
      const valid = descriptors.messageBytes(requestDescriptor(service.name, name));
      return decoderInputs(valid, 128).map((bytes) => ({ index, name, bytes }));
    }),
  );
  return fuzzTarget({
    name: `gRPC ${service.name} requests (${methods.length} methods)`,
    fuzzRuns: 25_000,
    isAsync: true,
    inputs: requests,
    check: async ({ index, bytes }) => {
      const [name, method] = methods[index]!;
      let request: unknown;
      try {
        request = method.requestDeserialize(Buffer.from(bytes));
      } catch {
        // The server answers INTERNAL "Error deserializing request" (decodeRequest), by design.
        return;
      }
      untyped.length = 0;
      if (!method.requestStream && !method.responseStream) {
        const handler = service.port.implementation[name] as
          | grpc.handleUnaryCall<unknown, unknown>
          | undefined;
        if (handler !== undefined) await callUnary(handler, request);
      } else {
        service.streamRequests[name]?.(request as never);
      }
      const [first] = untyped;
      if (first !== undefined) throw first;
    },
  });
}

const { logger, untyped } = untypedErrorLogger();
export const grpcServiceTargets = servicesUnderTest(logger).map((service) => serviceTarget(service, untyped));

export const grpcTargets = [
  grpcMessageFraming,
  grpcCompressedMessages,
  grpcTimeouts,
  http2ClientFrames,
  ownHttp2ClientFrames,
  ...grpcServiceTargets,
];
