/**
 * What leaves one own HTTP/2 connection: the frames of a turn, gathered in a `FrameWriter` and
 * written to the socket once per turn (several calls' answers in one socket write), and the
 * streams' queued responses, sent as the flow-control windows allow. DATA goes within the
 * stream's window, the connection's send window, the peer's frame size and what the socket may
 * still take this turn (`SOCKET_HIGH_WATER_BYTES`); a stream that has to wait is parked until a
 * WINDOW_UPDATE or the socket's 'drain'.
 */
import type { Duplex } from 'node:stream';
import {
  DEFAULT_MAX_FRAME_PAYLOAD_BYTES,
  DEFAULT_WINDOW_BYTES,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FRAME_CONTINUATION,
  FRAME_DATA,
  FRAME_HEADERS,
  SOCKET_HIGH_WATER_BYTES,
} from './frame-types.js';
import { FrameWriter } from './frame-writer.js';
import type { Http2ServerStream, StreamOutput } from './server-stream.js';

export class ConnectionOutput implements StreamOutput {
  readonly writer = new FrameWriter();
  /** The peer's SETTINGS_MAX_FRAME_SIZE: no frame we send is larger. */
  peerMaxFrameBytes = DEFAULT_MAX_FRAME_PAYLOAD_BYTES;
  /** Bytes of DATA we may send before the peer's connection WINDOW_UPDATE. */
  sendWindow = DEFAULT_WINDOW_BYTES;
  /** DATA bytes this turn's write may still take before the socket is too full. */
  private socketAllowance = 0;
  private queue: Http2ServerStream[] = [];
  private readonly blockedStreams = new Set<Http2ServerStream>();
  private flushScheduled = false;
  /** Nothing more is sent (the connection failed, was destroyed or ended). */
  private stopped = false;
  /** The socket ends after the next flush (GOAWAY sent, and no stream left). */
  private endAfterFlush = false;

  constructor(private readonly socket: Duplex) {}

  get closed(): boolean {
    return this.stopped;
  }

  /** Bytes written and not yet on the wire: the socket's unsent ones and this turn's. */
  get unsentBytes(): number {
    return this.socket.writableLength + this.writer.pendingBytes;
  }

  /** From now on nothing is sent. */
  stop(): void {
    this.stopped = true;
  }

  /** Flush what is queued, then end the socket. */
  endSoon(): void {
    this.endAfterFlush = true;
    this.scheduleFlush();
  }

  /** `stream` has something to send: it goes in this turn's write. */
  schedule(stream: Http2ServerStream): void {
    if (stream.scheduled || stream.blocked || this.stopped) return;
    stream.scheduled = true;
    this.queue.push(stream);
    this.scheduleFlush();
  }

  /** A closed stream leaves the waiting set. */
  forget(stream: Http2ServerStream): void {
    if (stream.blocked) this.blockedStreams.delete(stream);
  }

  /** The stream's window grew: if it waited, it sends again. */
  streamWindowOpened(stream: Http2ServerStream): void {
    if (!stream.blocked) return;
    stream.blocked = false;
    this.blockedStreams.delete(stream);
    this.schedule(stream);
  }

  /** The connection's window or the socket opened: every waiting stream tries again. */
  unblockAll(): void {
    for (const stream of this.blockedStreams) {
      stream.blocked = false;
      this.schedule(stream);
    }
    this.blockedStreams.clear();
  }

  headers(streamId: number, block: Buffer, endStream: boolean): void {
    const end = endStream ? FLAG_END_STREAM : 0;
    if (block.length <= this.peerMaxFrameBytes) {
      this.writer.frame(FRAME_HEADERS, FLAG_END_HEADERS | end, streamId, block);
      return;
    }
    let from = 0;
    let type = FRAME_HEADERS;
    while (from < block.length) {
      const to = Math.min(block.length, from + this.peerMaxFrameBytes);
      const last = to === block.length ? FLAG_END_HEADERS : 0;
      this.writer.frame(type, (type === FRAME_HEADERS ? end : 0) | last, streamId, block, from, to);
      type = FRAME_CONTINUATION;
      from = to;
    }
  }

  data(streamId: number, chunk: Buffer | undefined, from: number, to: number, endStream: boolean): void {
    this.writer.frame(FRAME_DATA, endStream ? FLAG_END_STREAM : 0, streamId, chunk, from, to);
    const bytes = to - from;
    this.sendWindow -= bytes;
    this.socketAllowance -= bytes;
  }

  dataAllowance(streamWindow: number, wanted: number): number {
    return Math.max(
      0,
      Math.min(wanted, streamWindow, this.sendWindow, this.peerMaxFrameBytes, this.socketAllowance),
    );
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(flushOutput, this);
  }

  /** Sends every stream's queued output that the windows allow, then writes the turn's frames. */
  flush(): void {
    this.flushScheduled = false;
    if (this.socket.destroyed) return;
    this.socketAllowance = SOCKET_HIGH_WATER_BYTES - this.socket.writableLength;
    while (this.queue.length > 0) {
      const streams = this.queue;
      this.queue = [];
      for (const stream of streams) {
        stream.scheduled = false;
        if (stream.sendQueued(this) || stream.closed) continue;
        stream.blocked = true;
        this.blockedStreams.add(stream);
      }
    }
    const pieces = this.writer.take();
    if (pieces.length === 1) this.socket.write(pieces[0]);
    else if (pieces.length > 1) {
      this.socket.cork();
      for (const piece of pieces) this.socket.write(piece);
      this.socket.uncork();
    }
    if (this.endAfterFlush && !this.stopped) {
      this.stopped = true;
      this.socket.end();
    }
  }
}

function flushOutput(output: ConnectionOutput): void {
  output.flush();
}
