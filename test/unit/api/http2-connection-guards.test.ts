/**
 * The own HTTP/2 connection's guards against clients that do not keep their side, driven in
 * process with raw frames over a stand-in socket and a clock moved by hand: a client that never
 * acknowledges our SETTINGS (RFC 9113 section 6.5.3, GOAWAY SETTINGS_TIMEOUT).
 */
import { describe, expect, it } from 'vitest';
import { HPACK_CODEC, ResponseHeaderBlocks } from '../../../src/api/http2/header-codec.js';
import { Http2ServerConnection } from '../../../src/api/http2/server-connection.js';
import { ManualClock } from '../../../src/lib/index.js';
import { frame, PREFACE, parseFrames } from '../../support/http2-raw-frames.js';
import { recordingSocket } from '../../support/recording-socket.js';

const SETTINGS = 0x4;
const GOAWAY = 0x7;
const ACK = 0x1;
const SETTINGS_TIMEOUT = 0x4;
/** RFC 9113 leaves the time to the server; ours is 10 s. */
const SETTINGS_ACK_TIMEOUT_MS = 10_000;
const CLOSE_LINGER_MS = 1_000;

function connectionOn(socket: ReturnType<typeof recordingSocket>['socket'], clock: ManualClock) {
  const closed: Http2ServerConnection[] = [];
  const connection = new Http2ServerConnection(socket, {
    codec: HPACK_CODEC,
    blocks: new ResponseHeaderBlocks(HPACK_CODEC),
    onStream: () => {},
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
