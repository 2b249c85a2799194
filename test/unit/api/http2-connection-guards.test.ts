/**
 * The own HTTP/2 connection's guards against clients that do not keep their side, driven in
 * process with raw frames over a stand-in socket and a clock moved by hand: a client that never
 * acknowledges our SETTINGS (RFC 9113 section 6.5.3, GOAWAY SETTINGS_TIMEOUT), and a client that
 * asks for answers (PINGs, requests) without reading them (GOAWAY ENHANCE_YOUR_CALM).
 */
import { describe, expect, it } from 'vitest';
import { HPACK_CODEC, ResponseHeaderBlocks } from '../../../src/api/http2/header-codec.js';
import { Http2ServerConnection } from '../../../src/api/http2/server-connection.js';
import type { Http2ServerStream } from '../../../src/api/http2/server-stream.js';
import { ManualClock } from '../../../src/lib/index.js';
import { frame, PREFACE, parseFrames } from '../../support/http2-raw-frames.js';
import { recordingSocket, stalledSocket } from '../../support/recording-socket.js';

const HEADERS = 0x1;
const SETTINGS = 0x4;
const PING = 0x6;
const GOAWAY = 0x7;
const ACK = 0x1;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const SETTINGS_TIMEOUT = 0x4;
const ENHANCE_YOUR_CALM = 0xb;
/** Bytes left unsent in the socket past which a client asking for more answers is a flood. */
const SOCKET_FLOOD_BYTES = 16 * 1024 * 1024;
/** RFC 9113 leaves the time to the server; ours is 10 s. */
const SETTINGS_ACK_TIMEOUT_MS = 10_000;
const CLOSE_LINGER_MS = 1_000;

function connectionOn(
  socket: ReturnType<typeof recordingSocket>['socket'],
  clock: ManualClock,
  onStream: (stream: Http2ServerStream) => void = () => {},
) {
  const closed: Http2ServerConnection[] = [];
  const connection = new Http2ServerConnection(socket, {
    codec: HPACK_CODEC,
    blocks: new ResponseHeaderBlocks(HPACK_CODEC),
    onStream,
    onClose: (each) => closed.push(each),
    clock,
  });
  return { connection, closed };
}

/** Lets the socket's 'close' (emitted on the next tick after destroy) arrive. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the own HTTP/2 connection and its SETTINGS acknowledgement', () => {
  it('ends a connection whose client does not acknowledge our SETTINGS in time with GOAWAY SETTINGS_TIMEOUT', async () => {
    const clock = new ManualClock();
    const { socket, written } = recordingSocket();
    const { connection, closed } = connectionOn(socket, clock);
    // The client sends its preface and SETTINGS, but never the ACK of ours.
    socket.emit('data', Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]));
    connection.flush();
    clock.advance(SETTINGS_ACK_TIMEOUT_MS - 1);
    expect(parseFrames(Buffer.concat(written)).some((each) => each.type === GOAWAY)).toBe(false);
    clock.advance(1);
    const goaway = parseFrames(Buffer.concat(written)).find((each) => each.type === GOAWAY);
    expect(goaway?.payload.readUInt32BE(4)).toBe(SETTINGS_TIMEOUT);
    // The client has a moment to read the GOAWAY and close; then the socket is cut.
    expect(socket.destroyed).toBe(false);
    clock.advance(CLOSE_LINGER_MS);
    expect(socket.destroyed).toBe(true);
    await nextTurn();
    expect(closed).toEqual([connection]);
    expect(clock.pendingTimerCount()).toBe(0);
  });

  it('keeps a connection whose client acknowledged, and holds no timer for it', () => {
    const clock = new ManualClock();
    const { socket, written } = recordingSocket();
    const { connection } = connectionOn(socket, clock);
    expect(clock.pendingTimerCount()).toBe(1);
    socket.emit('data', Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(SETTINGS, ACK, 0)]));
    connection.flush();
    expect(clock.pendingTimerCount()).toBe(0);
    clock.advance(10 * SETTINGS_ACK_TIMEOUT_MS);
    expect(parseFrames(Buffer.concat(written)).some((each) => each.type === GOAWAY)).toBe(false);
    expect(socket.destroyed).toBe(false);
    connection.destroy();
  });

  it('ends a connection that never sends anything the same way', () => {
    const clock = new ManualClock();
    const { socket, written } = recordingSocket();
    connectionOn(socket, clock);
    clock.advance(SETTINGS_ACK_TIMEOUT_MS);
    const goaway = parseFrames(Buffer.concat(written)).find((each) => each.type === GOAWAY);
    expect(goaway?.payload.readUInt32BE(4)).toBe(SETTINGS_TIMEOUT);
  });
});

const REQUEST_BLOCK = HPACK_CODEC.encode([
  [':method', 'POST'],
  [':scheme', 'http'],
  [':path', '/test.Raw/Echo'],
  ['content-type', 'application/grpc'],
]);

/** The error code of the GOAWAY in the last chunk handed to the socket. */
function lastGoawayCode(written: readonly Buffer[]): number | undefined {
  const goaway = parseFrames(written[written.length - 1] ?? Buffer.alloc(0)).find(
    (each) => each.type === GOAWAY,
  );
  return goaway?.payload.readUInt32BE(4);
}

describe('the own HTTP/2 connection and a client that does not read', () => {
  it('ends a connection whose client sends PINGs past 16 MiB of unread answers, and lets go of what it held', async () => {
    const clock = new ManualClock();
    const { socket, written } = stalledSocket();
    const streamsClosed: number[] = [];
    const { connection, closed } = connectionOn(socket, clock, (stream) =>
      stream.on('close', () => streamsClosed.push(stream.id)),
    );
    // A call held open, to see the connection let go of it.
    socket.emit(
      'data',
      Buffer.concat([
        PREFACE,
        frame(SETTINGS, 0, 0),
        frame(SETTINGS, ACK, 0),
        frame(HEADERS, END_HEADERS, 1, REQUEST_BLOCK),
      ]),
    );
    connection.flush();
    expect(connection.openStreams).toBe(1);
    // 65,536 PINGs a batch, each answered by a 17-octet ACK: 1,114,112 octets a batch.
    const pings = Buffer.concat(Array.from({ length: 65_536 }, () => frame(PING, 0, 0, Buffer.alloc(8))));
    let batches = 0;
    while (!socket.writableEnded && batches < 40) {
      socket.emit('data', pings);
      connection.flush();
      batches++;
    }
    // 15 batches stay under 16 MiB; the 16th crosses it.
    expect(batches).toBe(Math.ceil(SOCKET_FLOOD_BYTES / (65_536 * 17)));
    expect(lastGoawayCode(written)).toBe(ENHANCE_YOUR_CALM);
    expect(streamsClosed).toEqual([1]);
    expect(connection.openStreams).toBe(0);
    // Nothing more is read or answered.
    const unsent = socket.writableLength;
    socket.emit('data', pings);
    connection.flush();
    expect(socket.writableLength).toBe(unsent);
    // The client gets a moment to read the GOAWAY; it does not, so the socket is destroyed, and
    // the server is told the connection closed (it drops it, and with it the unsent bytes).
    clock.advance(1_000);
    expect(socket.destroyed).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toEqual([connection]);
    expect(clock.pendingTimerCount()).toBe(0);
  });

  it('ends a connection whose client sends requests past 16 MiB of unread answers', () => {
    const clock = new ManualClock();
    const { socket, written } = stalledSocket();
    // Each call answers at once with 16,000 octets of headers (HEADERS are not flow controlled).
    const bigAnswer = Object.freeze({ ':status': 200, 'x-big': 'b'.repeat(16_000) });
    let calls = 0;
    const { connection } = connectionOn(socket, clock, (stream) => {
      calls++;
      stream.respond(bigAnswer, { endStream: true });
    });
    socket.emit('data', Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(SETTINGS, ACK, 0)]));
    let nextStream = 1;
    let batches = 0;
    while (!socket.writableEnded && batches < 40) {
      const requests = Array.from({ length: 100 }, () => {
        const request = frame(HEADERS, END_HEADERS | END_STREAM, nextStream, REQUEST_BLOCK);
        nextStream += 2;
        return request;
      });
      socket.emit('data', Buffer.concat(requests));
      connection.flush();
      batches++;
    }
    expect(socket.writableEnded).toBe(true);
    expect(lastGoawayCode(written)).toBe(ENHANCE_YOUR_CALM);
    // About 16 MiB of answers were taken before the guard: the calls stopped there.
    expect(calls).toBeGreaterThan(SOCKET_FLOOD_BYTES / 16_100);
    expect(calls).toBeLessThan(SOCKET_FLOOD_BYTES / 16_000 + 100);
    connection.destroy();
  });
});
