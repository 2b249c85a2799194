/**
 * How a unary answer leaves MeshOS's gRPC server: the writes its connection gets. The connection
 * is a duplex pair in the process (Node's HTTP/2 session writes each batch of frames to it in one
 * call), so each write the server makes is seen whole, with the frames it carries.
 */
import * as http2 from 'node:http2';
import { Duplex } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcServer } from '../../../src/api/grpc-server/index.js';

const FRAME_HEADER_BYTES = 9;
const FRAME_TYPE_DATA = 0x0;
const FRAME_TYPE_HEADERS = 0x1;
const FLAG_END_STREAM = 0x1;

interface FrameSeen {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
}

/** One end of an in-process connection; what is written to it arrives at its peer. */
class ConnectionEnd extends Duplex {
  peer: ConnectionEnd | undefined;
  /** Every write made to this end, in order, as the frames it carried. */
  readonly writes: FrameSeen[][] = [];
  private pending = Buffer.alloc(0);

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const bytes = Buffer.concat(chunks.map((entry) => entry.chunk));
    this.note(bytes);
    // Later, as a network delivers: a session must not read while it is still writing.
    setImmediate(() => this.peer?.push(bytes));
    callback();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  override _read(): void {}

  /** The frames whose headers are whole in what was written so far (the preface aside). */
  private note(bytes: Buffer): void {
    let buffer = Buffer.concat([this.pending, bytes]);
    const frames: FrameSeen[] = [];
    while (buffer.length >= FRAME_HEADER_BYTES) {
      const length = buffer.readUIntBE(0, 3);
      if (buffer.length < FRAME_HEADER_BYTES + length) break;
      frames.push({ type: buffer[3]!, flags: buffer[4]!, streamId: buffer.readUInt32BE(5) & 0x7fff_ffff });
      buffer = buffer.subarray(FRAME_HEADER_BYTES + length);
    }
    this.pending = buffer;
    this.writes.push(frames);
  }
}

function connectionPair(): { server: ConnectionEnd; client: ConnectionEnd } {
  const server = new ConnectionEnd();
  const client = new ConnectionEnd();
  server.peer = client;
  client.peer = server;
  return { server, client };
}

const echo = {
  path: '/test.Echo/Echo',
  requestStream: false,
  responseStream: false,
  requestSerialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  requestDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
  responseSerialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  responseDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
};

function framedRequest(value: unknown): Buffer {
  const bytes = Buffer.from(JSON.stringify(value));
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

/** One call on `session`: resolves with the trailers once the answer ended. */
function call(session: http2.ClientHttp2Session, text: string): Promise<http2.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const request = session.request({
      ':method': 'POST',
      ':path': echo.path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let trailers: http2.IncomingHttpHeaders = {};
    request.on('trailers', (received) => {
      trailers = received;
    });
    request.on('data', () => {});
    request.on('end', () => resolve(trailers));
    request.on('error', reject);
    request.end(framedRequest({ text }));
  });
}

describe('a unary answer', () => {
  let server: GrpcServer | undefined;
  let session: http2.ClientHttp2Session | undefined;
  afterEach(async () => {
    session?.destroy();
    await server?.close(100);
  });

  it('leaves in one write: response headers, message and the trailers that end the stream', async () => {
    server = new GrpcServer({ maxReceiveMessageBytes: 1 << 20, maxSendMessageBytes: 1 << 20 });
    server.addService({ Echo: echo } as grpc.ServiceDefinition, {
      Echo: (request: { request: unknown }, callback: (error: null, value: unknown) => void) =>
        callback(null, request.request),
    });
    const { server: serverEnd, client: clientEnd } = connectionPair();
    server.injectConnection(serverEnd);
    session = http2.connect('http://in-process', { createConnection: () => clientEnd });
    for (const text of ['first', 'second', 'third']) {
      const trailers = await call(session, text);
      expect(trailers['grpc-status']).toBe('0');
    }
    // Streams 1, 3, 5: each answer's HEADERS, DATA and END_STREAM HEADERS share one write.
    for (const streamId of [1, 3, 5]) {
      const carrying = serverEnd.writes.filter((frames) =>
        frames.some((frame) => frame.streamId === streamId),
      );
      expect(carrying).toHaveLength(1);
      const frames = carrying[0]!.filter((frame) => frame.streamId === streamId);
      expect(frames.map((frame) => frame.type)).toEqual([
        FRAME_TYPE_HEADERS,
        FRAME_TYPE_DATA,
        FRAME_TYPE_HEADERS,
      ]);
      expect(frames.map((frame) => (frame.flags & FLAG_END_STREAM) !== 0)).toEqual([false, false, true]);
    }
  });
});
