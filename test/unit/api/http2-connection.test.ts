/**
 * MeshOS's own HTTP/2 server connection (src/api/http2/) at the frame level, over a raw socket on
 * 127.0.0.1: the handshake, PING, ignored frames, frames split anyhow across writes, header
 * blocks with CONTINUATION and padding, and connection errors answered with GOAWAY and the code
 * RFC 9113 gives them.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcServer } from '../../../src/api/grpc-server/index.js';
import { ClientHeaderDecoder } from '../../../src/api/header-block.js';
import { HPACK_CODEC, ResponseHeaderBlocks } from '../../../src/api/http2/header-codec.js';
import { Http2ServerConnection } from '../../../src/api/http2/server-connection.js';
import { type Frame, frame, PREFACE, parseFrames } from '../../support/http2-raw-frames.js';
import { type NodeHttp2Answer, nodeHttp2Call } from '../../support/node-http2-call.js';
import { recordingSocket } from '../../support/recording-socket.js';
import { until } from '../../support/until.js';

const DATA = 0x0;
const HEADERS = 0x1;
const PRIORITY = 0x2;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PUSH_PROMISE = 0x5;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PROTOCOL_ERROR = 0x1;
const FLOW_CONTROL_ERROR = 0x3;
const FRAME_SIZE_ERROR = 0x6;
const REFUSED_STREAM = 0x7;
const CANCEL = 0x8;
const ENHANCE_YOUR_CALM = 0xb;
const COMPRESSION_ERROR = 0x9;

const CLIENT_SETTINGS = frame(SETTINGS, 0, 0);
const ECHO_PATH = '/test.Raw/Echo';

function requestBlock(path = ECHO_PATH): Buffer {
  return HPACK_CODEC.encode([
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', path],
    [':authority', 'http://127.0.0.1:2379'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ]);
}

/** An HPACK integer (RFC 7541 section 5.1) with `prefixBits` bits in its first octet, under `flags`. */
function hpackInteger(value: number, prefixBits: number, flags: number): number[] {
  const prefixMax = (1 << prefixBits) - 1;
  if (value < prefixMax) return [flags | value];
  const octets = [flags | prefixMax];
  let rest = value - prefixMax;
  while (rest >= 128) {
    octets.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  octets.push(rest);
  return octets;
}

/** A literal field with incremental indexing (RFC 7541 section 6.2.1): it enters the dynamic table. */
function indexedLiteral(name: string, value: string): Buffer {
  return Buffer.from([
    0x40,
    ...hpackInteger(name.length, 7, 0),
    ...Buffer.from(name),
    ...hpackInteger(value.length, 7, 0),
    ...Buffer.from(value),
  ]);
}

/** An indexed field (RFC 7541 section 6.1); 62 is the newest dynamic table entry. */
function indexed(index: number): Buffer {
  return Buffer.from(hpackInteger(index, 7, 0x80));
}

function message(text: string): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(text.length, 1);
  return Buffer.concat([prefix, Buffer.from(text)]);
}

/** A raw client connection: what it sends, and every frame the server sent, parsed. */
class RawConnection {
  readonly frames: Frame[] = [];
  closed = false;
  private pending = Buffer.alloc(0);
  private readonly decoder = new ClientHeaderDecoder();

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      const frames = parseFrames(this.pending);
      this.frames.push(...frames);
      const parsedBytes = frames.reduce((sum, each) => sum + 9 + each.payload.length, 0);
      this.pending = this.pending.subarray(parsedBytes);
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
    });
  }

  send(...bytes: Buffer[]): void {
    this.socket.write(Buffer.concat(bytes));
  }

  /** Sends `bytes` one octet per write. */
  async trickle(bytes: Buffer): Promise<void> {
    for (const octet of bytes) {
      await new Promise<void>((resolve) => this.socket.write(Buffer.from([octet]), () => resolve()));
    }
  }

  async frameOf(type: number, what: string, where: (frame: Frame) => boolean = () => true): Promise<Frame> {
    await until(() => this.frames.some((each) => each.type === type && where(each)), what);
    return this.frames.find((each) => each.type === type && where(each))!;
  }

  /** The GOAWAY's error code, once the server sent it and closed the connection. */
  async goawayCode(): Promise<number> {
    const goaway = await this.frameOf(GOAWAY, 'a GOAWAY');
    await until(() => this.closed, 'the connection to close');
    return goaway.payload.readUInt32BE(4);
  }

  /** The header fields of a HEADERS frame (decoded in order: the table follows the server). */
  fieldsOf(headers: Frame): Record<string, string> {
    const fields: Record<string, string> = {};
    for (const field of this.decoder.decode(headers.payload)) fields[field.name] = field.value;
    return fields;
  }

  close(): void {
    this.socket.destroy();
  }
}

let server: GrpcServer;
let listener: net.Server;
let port: number;

beforeAll(async () => {
  server = new GrpcServer({
    maxReceiveMessageBytes: 1 << 20,
    maxSendMessageBytes: 1 << 20,
    ownHttp2: HPACK_CODEC,
  });
  const bytes = { serialize: (value: unknown) => value as Buffer, deserialize: (value: Buffer) => value };
  server.addService(
    {
      Echo: {
        path: ECHO_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: bytes.serialize,
        requestDeserialize: bytes.deserialize,
        responseSerialize: bytes.serialize,
        responseDeserialize: bytes.deserialize,
      },
    },
    {
      Echo: (call: { request: Buffer }, callback: (error: null, value: Buffer) => void) =>
        callback(null, call.request),
    },
  );
  listener = net.createServer((socket) => server.injectConnection(socket));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
  port = (listener.address() as net.AddressInfo).port;
});

afterAll(async () => {
  listener.close();
  await server.close(100);
});

async function connected(): Promise<RawConnection> {
  const connection = await RawConnection.open(port);
  connection.send(PREFACE, CLIENT_SETTINGS);
  return connection;
}

describe('the own HTTP/2 connection', () => {
  it('sends its SETTINGS and a connection WINDOW_UPDATE, acknowledges the client SETTINGS and answers PING', async () => {
    const connection = await connected();
    try {
      const settings = await connection.frameOf(SETTINGS, 'the server SETTINGS', (each) => each.flags === 0);
      expect(settings.payload.length % 6).toBe(0);
      await connection.frameOf(SETTINGS, 'the SETTINGS ACK', (each) => each.flags === 1);
      const opaque = Buffer.from('8 octets');
      connection.send(frame(PING, 0, 0, opaque));
      const ack = await connection.frameOf(PING, 'the PING ACK');
      expect(ack.flags).toBe(1);
      expect(ack.payload).toEqual(opaque);
    } finally {
      connection.close();
    }
  });

  it('reads frames split octet by octet, ignores PRIORITY and unknown frames, and takes CONTINUATION and padding', async () => {
    const connection = await RawConnection.open(port);
    try {
      const block = requestBlock();
      const padded = Buffer.concat([Buffer.from([3]), block.subarray(0, 10), Buffer.alloc(3)]);
      await connection.trickle(
        Buffer.concat([
          PREFACE,
          CLIENT_SETTINGS,
          frame(0x42, 0, 0, Buffer.from('unknown')),
          frame(PRIORITY, 0, 1, Buffer.alloc(5)),
          frame(HEADERS, PADDED, 1, padded),
          frame(CONTINUATION, END_HEADERS, 1, block.subarray(10)),
          frame(
            DATA,
            END_STREAM | PADDED,
            1,
            Buffer.concat([Buffer.from([2]), message('hello'), Buffer.alloc(2)]),
          ),
        ]),
      );
      const data = await connection.frameOf(DATA, 'the answer', (each) => each.streamId === 1);
      expect(data.payload.subarray(5).toString()).toBe('hello');
      const headers = connection.frames.filter((each) => each.type === HEADERS && each.streamId === 1);
      expect(connection.fieldsOf(headers[0]!)[':status']).toBe('200');
      await until(
        () => connection.frames.filter((each) => each.type === HEADERS && each.streamId === 1).length === 2,
        'the trailers',
      );
      const trailers = connection.frames.filter((each) => each.type === HEADERS && each.streamId === 1)[1]!;
      expect(trailers.flags & END_STREAM).toBe(END_STREAM);
      expect(connection.fieldsOf(trailers)['grpc-status']).toBe('0');
    } finally {
      connection.close();
    }
  });

  it('answers a wrong preface with GOAWAY PROTOCOL_ERROR', async () => {
    const connection = await RawConnection.open(port);
    connection.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(await connection.goawayCode()).toBe(PROTOCOL_ERROR);
  });

  it('answers a first frame other than SETTINGS with GOAWAY PROTOCOL_ERROR', async () => {
    const connection = await RawConnection.open(port);
    connection.send(PREFACE, frame(PING, 0, 0, Buffer.alloc(8)));
    expect(await connection.goawayCode()).toBe(PROTOCOL_ERROR);
  });

  it('answers a PUSH_PROMISE from the client with GOAWAY PROTOCOL_ERROR', async () => {
    const connection = await connected();
    connection.send(frame(PUSH_PROMISE, END_HEADERS, 1, Buffer.alloc(4)));
    expect(await connection.goawayCode()).toBe(PROTOCOL_ERROR);
  });

  it('answers a frame above the advertised frame size with GOAWAY FRAME_SIZE_ERROR', async () => {
    const connection = await connected();
    connection.send(frame(DATA, 0, 1, Buffer.alloc(16_385)));
    expect(await connection.goawayCode()).toBe(FRAME_SIZE_ERROR);
  });

  it('answers a PING of the wrong size with GOAWAY FRAME_SIZE_ERROR', async () => {
    const connection = await connected();
    connection.send(frame(PING, 0, 0, Buffer.alloc(7)));
    expect(await connection.goawayCode()).toBe(FRAME_SIZE_ERROR);
  });

  it('answers DATA on an idle stream, and a stream with an even id, with GOAWAY PROTOCOL_ERROR', async () => {
    const idleData = await connected();
    idleData.send(frame(DATA, 0, 5, message('x')));
    expect(await idleData.goawayCode()).toBe(PROTOCOL_ERROR);
    const evenStream = await connected();
    evenStream.send(frame(HEADERS, END_HEADERS, 2, requestBlock()));
    expect(await evenStream.goawayCode()).toBe(PROTOCOL_ERROR);
  });

  it('answers a header block interrupted by another frame with GOAWAY PROTOCOL_ERROR', async () => {
    const connection = await connected();
    connection.send(frame(HEADERS, 0, 1, requestBlock().subarray(0, 5)), frame(PING, 0, 0, Buffer.alloc(8)));
    expect(await connection.goawayCode()).toBe(PROTOCOL_ERROR);
  });

  it('answers a window grown beyond 2^31-1 with GOAWAY FLOW_CONTROL_ERROR', async () => {
    const connectionWindow = await connected();
    const increment = Buffer.alloc(4);
    increment.writeUInt32BE(0x7fff_ffff);
    connectionWindow.send(frame(WINDOW_UPDATE, 0, 0, increment));
    expect(await connectionWindow.goawayCode()).toBe(FLOW_CONTROL_ERROR);
    const initialWindow = await RawConnection.open(port);
    const setting = Buffer.alloc(6);
    setting.writeUInt16BE(0x4, 0);
    setting.writeUInt32BE(0x8000_0000, 2);
    initialWindow.send(PREFACE, frame(SETTINGS, 0, 0, setting));
    expect(await initialWindow.goawayCode()).toBe(FLOW_CONTROL_ERROR);
  });

  it('ends a connection whose client opens and resets streams without pause (rapid reset) with ENHANCE_YOUR_CALM', async () => {
    const connection = await connected();
    const cancel = Buffer.alloc(4);
    cancel.writeUInt32BE(CANCEL);
    const frames: Buffer[] = [];
    // Each stream opened and reset at once: 1,200 > the burst of 1,000 the server lets through.
    for (let stream = 1; stream <= 2_399; stream += 2)
      frames.push(frame(HEADERS, END_HEADERS, stream, requestBlock()), frame(RST_STREAM, 0, stream, cancel));
    connection.send(...frames);
    expect(await connection.goawayCode()).toBe(ENHANCE_YOUR_CALM);
  });

  it('answers a request whose header list is over 64 KiB alone (trailers-only RESOURCE_EXHAUSTED), keeps the HPACK table in step and serves the next call', async () => {
    const connection = await connected();
    try {
      // 3,000-octet value entered in the table, then named 22 times: about 67 KB decoded from
      // about 3 KB of block. Past the limit, `:path: /test.Raw/Echo` enters the table too.
      const huge = Buffer.concat([
        requestBlock('/test.Raw/Other'),
        indexedLiteral('x-pad', 'p'.repeat(3_000)),
        ...Array.from({ length: 22 }, () => indexed(62)),
        indexedLiteral(':path', ECHO_PATH),
      ]);
      // The next request's path is that last entry (index 62): it decodes right only if the
      // server's table took every entry of the refused block.
      const next = Buffer.concat([
        indexed(62),
        HPACK_CODEC.encode([
          [':method', 'POST'],
          [':scheme', 'http'],
          [':authority', '127.0.0.1'],
          ['content-type', 'application/grpc'],
          ['te', 'trailers'],
        ]),
      ]);
      connection.send(
        frame(HEADERS, END_HEADERS | END_STREAM, 1, huge),
        frame(HEADERS, END_HEADERS, 3, next),
        frame(DATA, END_STREAM, 3, message('after')),
      );
      const refusal = await connection.frameOf(HEADERS, 'the refusal', (each) => each.streamId === 1);
      expect(refusal.flags & END_STREAM).toBe(END_STREAM);
      const refused = connection.fieldsOf(refusal);
      expect(refused[':status']).toBe('200');
      expect(refused['grpc-status']).toBe('8');
      expect(refused['grpc-message']).toMatch(/header list over the server's limit of 65536 octets/);
      const data = await connection.frameOf(DATA, 'the next call answered', (each) => each.streamId === 3);
      expect(data.payload.subarray(5).toString()).toBe('after');
      await until(
        () => connection.frames.filter((each) => each.type === HEADERS && each.streamId === 3).length === 2,
        'the next call trailers',
      );
      const trailers = connection.frames.filter((each) => each.type === HEADERS && each.streamId === 3)[1]!;
      expect(connection.fieldsOf(trailers)['grpc-status']).toBe('0');
      expect(connection.frames.some((each) => each.type === GOAWAY || each.type === RST_STREAM)).toBe(false);
      expect(connection.closed).toBe(false);
    } finally {
      connection.close();
    }
  });

  it('resets a malformed request (RFC 9113 sections 8.2 and 8.3) with RST_STREAM PROTOCOL_ERROR, that stream alone', async () => {
    const method: [string, string] = [':method', 'POST'];
    const scheme: [string, string] = [':scheme', 'http'];
    const path: [string, string] = [':path', ECHO_PATH];
    const grpc: [string, string] = ['content-type', 'application/grpc'];
    const malformed: Record<string, [string, string][]> = {
      'an upper-case name': [method, scheme, path, grpc, ['X-Upper', 'v']],
      'a name with a space': [method, scheme, path, grpc, ['x bad', 'v']],
      connection: [method, scheme, path, grpc, ['connection', 'close']],
      'keep-alive': [method, scheme, path, grpc, ['keep-alive', '5']],
      'proxy-connection': [method, scheme, path, grpc, ['proxy-connection', 'close']],
      'transfer-encoding': [method, scheme, path, grpc, ['transfer-encoding', 'chunked']],
      upgrade: [method, scheme, path, grpc, ['upgrade', 'h2c']],
      'te other than trailers': [method, scheme, path, grpc, ['te', 'gzip']],
      'a pseudo-header after a regular field': [method, scheme, grpc, path],
      'an unknown pseudo-header': [method, scheme, path, [':protocol', 'websocket'], grpc],
      'a duplicated pseudo-header': [method, scheme, path, path, grpc],
      'a response pseudo-header': [[':status', '200'], method, scheme, path, grpc],
      'no :method': [scheme, path, grpc],
      'no :scheme': [method, path, grpc],
      'no :path': [method, scheme, grpc],
      'an empty :path': [method, scheme, [':path', ''], grpc],
      'a value with CR LF': [method, scheme, path, grpc, ['x-bad', 'a\r\nb']],
      'a value with a leading space': [method, scheme, path, grpc, ['x-bad', ' a']],
    };
    const connection = await connected();
    try {
      const streamOf = new Map<string, number>();
      let stream = 1;
      for (const [name, fields] of Object.entries(malformed)) {
        streamOf.set(name, stream);
        connection.send(frame(HEADERS, END_HEADERS | END_STREAM, stream, HPACK_CODEC.encode(fields)));
        stream += 2;
      }
      // Trailers with a pseudo-header, on a request that was well formed.
      const trailersStream = stream;
      connection.send(
        frame(HEADERS, END_HEADERS, trailersStream, requestBlock()),
        frame(HEADERS, END_HEADERS | END_STREAM, trailersStream, HPACK_CODEC.encode([[':path', '/late']])),
      );
      const wellFormed = trailersStream + 2;
      connection.send(
        frame(HEADERS, END_HEADERS, wellFormed, requestBlock()),
        frame(DATA, END_STREAM, wellFormed, message('fine')),
      );
      const data = await connection.frameOf(
        DATA,
        'the well-formed call',
        (each) => each.streamId === wellFormed,
      );
      expect(data.payload.subarray(5).toString()).toBe('fine');
      const resetCode = (id: number): number | undefined =>
        connection.frames
          .find((each) => each.type === RST_STREAM && each.streamId === id)
          ?.payload.readUInt32BE(0);
      await until(() => resetCode(trailersStream) !== undefined, 'the reset of the trailers stream');
      const codes = Object.fromEntries([...streamOf].map(([name, id]) => [name, resetCode(id)]));
      expect(codes).toEqual(Object.fromEntries([...streamOf.keys()].map((name) => [name, PROTOCOL_ERROR])));
      expect(resetCode(trailersStream)).toBe(PROTOCOL_ERROR);
      // No malformed request reached the server's calls: none of their streams got an answer.
      const answered = connection.frames.filter((each) => each.type === HEADERS).map((each) => each.streamId);
      expect(new Set(answered)).toEqual(new Set([wellFormed]));
      expect(connection.frames.some((each) => each.type === GOAWAY)).toBe(false);
    } finally {
      connection.close();
    }
  });

  it('answers a header block that does not decode with GOAWAY COMPRESSION_ERROR', async () => {
    const connection = await connected();
    // An indexed field at index 0 (RFC 7541 section 6.1: a decoding error).
    connection.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, Buffer.from([0x80])));
    expect(await connection.goawayCode()).toBe(COMPRESSION_ERROR);
  });
});

/** One gRPC call by node:http2's client to the echo method. */
function nodeCall(
  session: http2.ClientHttp2Session,
  extraHeaders: http2.OutgoingHttpHeaders,
  text: string,
): Promise<NodeHttp2Answer> {
  const headers = {
    ':method': 'POST',
    ':path': ECHO_PATH,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...extraHeaders,
  };
  return nodeHttp2Call(session, headers, message(text));
}

describe('the own HTTP/2 connection with node:http2 as the client', () => {
  it('answers a request over the header list limit with RESOURCE_EXHAUSTED, and the session goes on in step', async () => {
    // nghttp2 refuses to send a block whose uncompressed bound is over 64 KiB unless told.
    const session = http2.connect(`http://127.0.0.1:${port}`, { maxSendHeaderBlockLength: 1 << 20 });
    // A session error fails the call in flight, which the test reports.
    session.on('error', () => {});
    try {
      // nghttp2 indexes the 3,000-octet value once and names it 22 times after: about 67 KB
      // decoded from a small block, and the server's table must take the entry all the same.
      const refused = await nodeCall(
        session,
        { 'x-pad': Array.from({ length: 22 }, () => 'p'.repeat(3_000)) },
        'no',
      );
      expect(refused.headers[':status']).toBe(200);
      expect(refused.headers['grpc-status']).toBe('8');
      expect(refused.body.length).toBe(0);
      // The same entry named again, within the limit this time: decoded from the shared table.
      const served = await nodeCall(session, { 'x-pad': 'p'.repeat(3_000) }, 'yes');
      expect(served.body.subarray(5).toString()).toBe('yes');
      expect(served.trailers['grpc-status']).toBe('0');
    } finally {
      session.close();
    }
  });
});

describe('the own HTTP/2 connection at its stream limit', () => {
  it('advertises the limit and refuses a stream beyond it with REFUSED_STREAM, then takes one again once a stream closed', async () => {
    const { socket, written } = recordingSocket();
    const opened: number[] = [];
    const connection = new Http2ServerConnection(socket, {
      codec: HPACK_CODEC,
      blocks: new ResponseHeaderBlocks(HPACK_CODEC),
      // Streams 1 and 3 are held open; the others are answered at once.
      onStream: (stream) => {
        opened.push(stream.id);
        if (stream.id > 3) stream.respond({ ':status': 200 }, { endStream: true });
      },
      onClose: () => {},
      maxConcurrentStreams: 2,
    });
    const sentFrames = (): Frame[] => parseFrames(Buffer.concat(written));
    const request = (stream: number): Buffer =>
      frame(HEADERS, END_HEADERS | END_STREAM, stream, requestBlock());
    socket.emit('data', Buffer.concat([PREFACE, CLIENT_SETTINGS, request(1), request(3), request(5)]));
    connection.flush();
    const settings = sentFrames().find((each) => each.type === SETTINGS && each.flags === 0)!;
    const advertised = new Map<number, number>();
    for (let at = 0; at < settings.payload.length; at += 6)
      advertised.set(settings.payload.readUInt16BE(at), settings.payload.readUInt32BE(at + 2));
    expect(advertised.get(0x3)).toBe(2);
    const refusal = sentFrames().find((each) => each.type === RST_STREAM && each.streamId === 5)!;
    expect(refusal.payload.readUInt32BE(0)).toBe(REFUSED_STREAM);
    expect(opened).toEqual([1, 3]);
    const cancel = Buffer.alloc(4);
    cancel.writeUInt32BE(CANCEL);
    socket.emit('data', Buffer.concat([frame(RST_STREAM, 0, 1, cancel), request(7)]));
    connection.flush();
    expect(opened).toEqual([1, 3, 7]);
    const answered = sentFrames().find((each) => each.type === HEADERS && each.streamId === 7);
    expect(answered?.flags).toBe(END_HEADERS | END_STREAM);
    connection.destroy();
  });
});
