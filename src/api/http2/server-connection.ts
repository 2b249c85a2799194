/**
 * MeshOS's own server side of one HTTP/2 connection (RFC 9113), for the client port's gRPC calls:
 * it reads frames straight from the socket's chunks (`frame-reader.ts`), gathers header blocks
 * (`header-block-assembly.ts`), decodes them with its HPACK decoder into one plain object per
 * request (`request-header-fields.ts`), and hands each request stream to `onStream`. This file
 * keeps the connection's state: its streams, the receive windows, the peer's settings, and how
 * it ends. What the calls send is gathered and written once per turn (`connection-output.ts`).
 *
 * Settings: the client may open `MAX_CONCURRENT_STREAMS` streams (more are refused with
 * REFUSED_STREAM), send `STREAM_RECEIVE_WINDOW_BYTES` per stream and
 * `CONNECTION_RECEIVE_WINDOW_BYTES` in all before a WINDOW_UPDATE (given back as calls take the
 * data), and header lists up to `MAX_HEADER_LIST_BYTES` (a request over it is answered alone,
 * the connection goes on). PINGs are answered, PRIORITY and unknown
 * frames ignored; protocol violations end the connection with GOAWAY and their error code, and
 * so does a client that does not acknowledge our SETTINGS within `SETTINGS_ACK_TIMEOUT_MS`.
 * Frames on closed streams are ignored (they may have crossed our RST_STREAM), but still counted
 * in the connection's window and, for HEADERS, decoded (the HPACK table must follow the client).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import { type Clock, SystemClock, type TimerId } from '../../lib/index.js';
import { INJECTED_CONNECTION } from '../grpc-server/auth-context.js';
import { Http2ConnectionError } from './connection-error.js';
import { ConnectionOutput } from './connection-output.js';
import { unpadded } from './frame-padding.js';
import { FrameReader, type FrameSink } from './frame-reader.js';
import {
  COMPRESSION_ERROR,
  CONNECTION_RECEIVE_WINDOW_BYTES,
  DEFAULT_WINDOW_BYTES,
  ENHANCE_YOUR_CALM,
  FLAG_ACK,
  FLAG_END_STREAM,
  FLOW_CONTROL_ERROR,
  FRAME_CONTINUATION,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_PING,
  FRAME_PRIORITY,
  FRAME_PUSH_PROMISE,
  FRAME_RST_STREAM,
  FRAME_SETTINGS,
  FRAME_SIZE_ERROR,
  FRAME_WINDOW_UPDATE,
  HEADER_TABLE_BYTES,
  INTERNAL_ERROR,
  LARGEST_WINDOW_BYTES,
  MAX_CONCURRENT_STREAMS,
  MAX_HEADER_LIST_BYTES,
  NO_ERROR,
  PROTOCOL_ERROR,
  REFUSED_STREAM,
  SETTINGS_ACK_TIMEOUT_MS,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_HEADER_LIST_SIZE,
  SETTINGS_TIMEOUT,
  SOCKET_FLOOD_BYTES,
  STREAM_CLOSED,
  STREAM_RECEIVE_WINDOW_BYTES,
} from './frame-types.js';
import { HeaderBlockAssembly } from './header-block-assembly.js';
import type { HeaderBlockDecoder, HeaderCodec, ResponseHeaderBlocks } from './header-codec.js';
import { HEADER_LIST_TOO_LARGE } from './header-list-refusal.js';
import { type PeerSettingsSink, readPeerSettings } from './peer-settings.js';
import { RequestHeaderFields } from './request-header-fields.js';
import { ResetRateLimit } from './reset-rate-limit.js';
import { Http2ServerStream, type StreamConnection } from './server-stream.js';

/** How long a connection that sent its GOAWAY after an error waits for the client to close. */
const CLOSE_LINGER_MS = 1_000;

/** The connections' timers by default: Node's, unreferenced (a guard must not hold the process). */
const CONNECTION_CLOCK = new SystemClock({ unrefTimers: true });

/** Our SETTINGS, with the concurrent streams the connection allows. */
const ourSettings = (maxConcurrentStreams: number): readonly (readonly [number, number])[] => [
  [SETTINGS_MAX_CONCURRENT_STREAMS, maxConcurrentStreams],
  [SETTINGS_INITIAL_WINDOW_SIZE, STREAM_RECEIVE_WINDOW_BYTES],
  [SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_BYTES],
];

export interface ConnectionOptions {
  readonly codec: HeaderCodec;
  readonly blocks: ResponseHeaderBlocks;
  /** A new request: its stream and headers (pseudo-headers included, as node:http2 gives them). */
  readonly onStream: (stream: Http2ServerStream, headers: IncomingHttpHeaders) => void;
  /** The socket closed; nothing of the connection is left. */
  readonly onClose: (connection: Http2ServerConnection) => void;
  /** Streams open at once before more are refused; `MAX_CONCURRENT_STREAMS` by default (tests set fewer). */
  readonly maxConcurrentStreams?: number;
  /** The SETTINGS ACK timeout's and the close linger's timers, and the reset rate's time (tests move it by hand). */
  readonly clock?: Clock;
}

export class Http2ServerConnection implements FrameSink, StreamConnection {
  readonly session: object;
  private readonly reader = new FrameReader(this);
  private readonly output: ConnectionOutput;
  private readonly blocks = new HeaderBlockAssembly((streamId, endStream, block) =>
    this.headerBlock(streamId, endStream, block),
  );
  private readonly decoder: HeaderBlockDecoder;
  private readonly fields = new RequestHeaderFields();
  private readonly streams = new Map<number, Http2ServerStream>();
  private readonly maxConcurrentStreams: number;
  /** The last stream taken (the GOAWAY's last stream id). */
  private lastStreamId = 0;
  /** The highest stream id the client opened, taken or not: streams up to it are no longer idle. */
  private highestStreamId = 0;
  private settingsReceived = false;
  private peerInitialWindow = DEFAULT_WINDOW_BYTES;
  private receiveWindow = CONNECTION_RECEIVE_WINDOW_BYTES;
  private unacknowledgedBytes = 0;
  private readonly resets = new ResetRateLimit();
  /** GOAWAY sent: no new streams; the connection ends when its last stream does. */
  private goingAway = false;
  private readonly clock: Clock;
  private readonly peerSettings: PeerSettingsSink = {
    initialWindowSize: (bytes) => this.peerInitialWindowChanged(bytes),
    maxFrameSize: (bytes) => {
      this.output.peerMaxFrameBytes = bytes;
    },
  };
  /** Runs until the client acknowledges our SETTINGS. */
  private settingsAckTimer: TimerId | undefined;

  constructor(
    private readonly socket: Duplex,
    private readonly options: ConnectionOptions,
  ) {
    this.session = { [INJECTED_CONNECTION]: socket };
    this.output = new ConnectionOutput(socket);
    this.maxConcurrentStreams = options.maxConcurrentStreams ?? MAX_CONCURRENT_STREAMS;
    this.decoder = options.codec.newDecoder(HEADER_TABLE_BYTES, MAX_HEADER_LIST_BYTES);
    this.output.writer.settings(ourSettings(this.maxConcurrentStreams));
    this.output.writer.windowUpdate(0, CONNECTION_RECEIVE_WINDOW_BYTES - DEFAULT_WINDOW_BYTES);
    this.output.scheduleFlush();
    this.clock = options.clock ?? CONNECTION_CLOCK;
    this.settingsAckTimer = this.clock.setTimer(SETTINGS_ACK_TIMEOUT_MS, () => {
      this.settingsAckTimer = undefined;
      this.fail(SETTINGS_TIMEOUT);
    });
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('drain', () => this.output.unblockAll());
    socket.on('end', () => this.destroy());
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.closed());
  }

  /** Streams open now. */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Closed by error or destroyed: nothing more is read or sent. */
  private get ended(): boolean {
    return this.output.closed;
  }

  /** Graceful close: GOAWAY (no new streams); the connection ends after its last stream. */
  shutdown(): void {
    if (this.ended || this.goingAway) return;
    this.goingAway = true;
    this.output.writer.goaway(this.lastStreamId, NO_ERROR);
    this.output.scheduleFlush();
    if (this.streams.size === 0) this.output.endSoon();
  }

  /** Cuts the connection: its streams close (their calls see a cancel), the socket is destroyed. */
  destroy(): void {
    this.output.stop();
    this.stopSettingsAckTimer();
    this.reader.stop();
    this.abortStreams();
    this.socket.destroy();
  }

  /** Writes what this turn gathered now (tests call it instead of waiting for the turn). */
  flush(): void {
    this.output.flush();
  }

  private read(chunk: Buffer): void {
    if (this.ended) return;
    try {
      this.reader.push(chunk);
    } catch (error) {
      // Anything else is a fault of ours; it ends this connection, not the process.
      this.fail(error instanceof Http2ConnectionError ? error.errorCode : INTERNAL_ERROR);
    }
  }

  /** A connection error: GOAWAY with `errorCode`, then the connection ends. */
  private fail(errorCode: number): void {
    if (this.ended) return;
    this.reader.stop();
    this.output.writer.goaway(this.lastStreamId, errorCode);
    this.output.flush();
    this.output.stop();
    this.stopSettingsAckTimer();
    this.abortStreams();
    this.socket.end();
    this.clock.setTimer(CLOSE_LINGER_MS, () => this.socket.destroy());
  }

  private stopSettingsAckTimer(): void {
    if (this.settingsAckTimer === undefined) return;
    this.clock.clearTimer(this.settingsAckTimer);
    this.settingsAckTimer = undefined;
  }

  private abortStreams(): void {
    for (const stream of [...this.streams.values()]) stream.abort();
  }

  private closed(): void {
    this.output.stop();
    this.stopSettingsAckTimer();
    this.abortStreams();
    this.options.onClose(this);
  }

  // ---- frames in

  frame(type: number, flags: number, streamId: number, payload: Buffer): void {
    const openStreamId = this.blocks.openStreamId;
    if (openStreamId !== undefined) {
      if (type !== FRAME_CONTINUATION || streamId !== openStreamId)
        throw new Http2ConnectionError(PROTOCOL_ERROR, 'a header block was interrupted');
      this.blocks.continuation(flags, payload);
      return;
    }
    if (!this.settingsReceived && type !== FRAME_SETTINGS)
      throw new Http2ConnectionError(PROTOCOL_ERROR, 'the first frame is not SETTINGS');
    switch (type) {
      case FRAME_DATA:
        this.dataFrame(flags, streamId, payload);
        return;
      case FRAME_HEADERS:
        this.noConnectionStream(streamId, 'HEADERS');
        this.blocks.headers(flags, streamId, payload);
        return;
      case FRAME_PRIORITY:
        this.noConnectionStream(streamId, 'PRIORITY');
        if (payload.length !== 5) this.resetStream(streamId, FRAME_SIZE_ERROR);
        return;
      case FRAME_RST_STREAM:
        this.rstStream(streamId, payload);
        return;
      case FRAME_SETTINGS:
        this.settings(flags, streamId, payload);
        return;
      case FRAME_PUSH_PROMISE:
        throw new Http2ConnectionError(PROTOCOL_ERROR, 'a client sent PUSH_PROMISE');
      case FRAME_PING:
        this.ping(flags, streamId, payload);
        return;
      case FRAME_GOAWAY:
        if (streamId !== 0) throw new Http2ConnectionError(PROTOCOL_ERROR, 'GOAWAY on a stream');
        this.goingAway = true;
        if (this.streams.size === 0) this.output.endSoon();
        return;
      case FRAME_WINDOW_UPDATE:
        this.windowUpdate(streamId, payload);
        return;
      case FRAME_CONTINUATION:
        throw new Http2ConnectionError(PROTOCOL_ERROR, 'CONTINUATION without a header block');
      default:
      // Unknown frame types are ignored (RFC 9113 section 4.1).
    }
  }

  private noConnectionStream(streamId: number, frame: string): void {
    if (streamId === 0) throw new Http2ConnectionError(PROTOCOL_ERROR, `${frame} on stream 0`);
  }

  private idle(streamId: number): boolean {
    return streamId > this.highestStreamId;
  }

  /** A stream error: RST_STREAM with `errorCode`; the stream (if open) closes. */
  private resetStream(streamId: number, errorCode: number): void {
    // Every reset here answers something the client sent: it counts against a client that does not read.
    this.checkFlood('RST_STREAM');
    const stream = this.streams.get(streamId);
    if (stream !== undefined) stream.finish(errorCode);
    else {
      this.output.writer.rstStream(streamId, errorCode);
      this.output.scheduleFlush();
    }
  }

  private dataFrame(flags: number, streamId: number, payload: Buffer): void {
    this.noConnectionStream(streamId, 'DATA');
    const frameBytes = payload.length;
    this.receiveWindow -= frameBytes;
    if (this.receiveWindow < 0)
      throw new Http2ConnectionError(FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
    const data = unpadded(flags, payload);
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (this.idle(streamId)) throw new Http2ConnectionError(PROTOCOL_ERROR, 'DATA on an idle stream');
      this.consumed(frameBytes);
      return;
    }
    if (stream.remoteEnded) {
      this.consumed(frameBytes);
      this.resetStream(streamId, STREAM_CLOSED);
      return;
    }
    stream.receiveWindow -= frameBytes;
    if (stream.receiveWindow < 0) {
      this.consumed(frameBytes);
      this.resetStream(streamId, FLOW_CONTROL_ERROR);
      return;
    }
    // Padding counts in the windows but no call takes it: free at once.
    if (frameBytes > data.length) this.consumed(frameBytes - data.length);
    if (data.length > 0) stream.receive(data);
    if ((flags & FLAG_END_STREAM) !== 0 && !stream.closed) stream.receiveEnd();
  }

  /** A complete header block: a new request, or trailers of an open one. */
  private headerBlock(streamId: number, endStream: boolean, block: Buffer): void {
    const fields = this.fields;
    const existing = this.streams.get(streamId);
    fields.begin(existing !== undefined);
    let withinLimit: boolean;
    try {
      withinLimit = this.decoder.decode(block, fields.field);
    } catch (error) {
      throw new Http2ConnectionError(
        COMPRESSION_ERROR,
        `a header block does not decode: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    fields.end();
    if (existing !== undefined) {
      // Trailers from the client: they must end its side.
      if (existing.remoteEnded) this.resetStream(streamId, STREAM_CLOSED);
      else if (!endStream) throw new Http2ConnectionError(PROTOCOL_ERROR, 'trailers without END_STREAM');
      // Trailers over the limit: the call already runs, so it is cut (nghttp2's answer to too many fields).
      else if (!withinLimit) this.resetStream(streamId, ENHANCE_YOUR_CALM);
      else if (fields.malformed !== undefined) this.resetStream(streamId, PROTOCOL_ERROR);
      else existing.receiveEnd();
      return;
    }
    if (!this.idle(streamId)) return;
    if (streamId % 2 === 0) throw new Http2ConnectionError(PROTOCOL_ERROR, 'a client stream with an even id');
    this.highestStreamId = streamId;
    // After our GOAWAY new streams are ignored; the client retries them elsewhere.
    if (this.goingAway || this.ended) return;
    // Each request is answered: a client that sends them without reading the answers is a flood.
    this.checkFlood('HEADERS');
    this.lastStreamId = streamId;
    if (this.streams.size >= this.maxConcurrentStreams) {
      this.resetStream(streamId, REFUSED_STREAM);
      return;
    }
    if (!withinLimit) {
      this.refuseHeaderList(streamId, endStream);
      return;
    }
    // A malformed request (RFC 9113 section 8.1.1) is a stream error: the connection goes on.
    if (fields.malformed !== undefined) {
      this.resetStream(streamId, PROTOCOL_ERROR);
      return;
    }
    const stream = this.openStream(streamId);
    this.options.onStream(stream, fields.headers);
    if (endStream && !stream.closed) stream.receiveEnd();
  }

  private openStream(streamId: number): Http2ServerStream {
    const stream = new Http2ServerStream(
      streamId,
      this,
      STREAM_RECEIVE_WINDOW_BYTES,
      this.peerInitialWindow,
      STREAM_RECEIVE_WINDOW_BYTES / 2,
    );
    this.streams.set(streamId, stream);
    return stream;
  }

  /**
   * A request whose header list is over the limit: it was seen (so not REFUSED_STREAM, which says
   * a client may retry it unchanged), and it is answered on its stream alone with a trailers-only
   * RESOURCE_EXHAUSTED (`header-list-refusal.ts`); no call runs. Whatever the client still sends
   * on the stream is taken and dropped until our END_STREAM (then RST_STREAM NO_ERROR, as for any
   * answer that ends first).
   */
  private refuseHeaderList(streamId: number, endStream: boolean): void {
    const stream = this.openStream(streamId);
    if (endStream) stream.receiveEnd();
    stream.respond(HEADER_LIST_TOO_LARGE, { endStream: true });
  }

  private rstStream(streamId: number, payload: Buffer): void {
    this.noConnectionStream(streamId, 'RST_STREAM');
    if (payload.length !== 4) throw new Http2ConnectionError(FRAME_SIZE_ERROR, 'RST_STREAM not 4 octets');
    if (this.idle(streamId)) throw new Http2ConnectionError(PROTOCOL_ERROR, 'RST_STREAM on an idle stream');
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    if (!this.resets.take(this.clock.nowMs()))
      throw new Http2ConnectionError(ENHANCE_YOUR_CALM, 'the client resets streams faster than allowed');
    stream.abort();
  }

  private settings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new Http2ConnectionError(PROTOCOL_ERROR, 'SETTINGS on a stream');
    if ((flags & FLAG_ACK) !== 0) {
      if (payload.length !== 0)
        throw new Http2ConnectionError(FRAME_SIZE_ERROR, 'a SETTINGS ACK with a payload');
      // We send SETTINGS once: its ACK stops the timer, any later ACK is ignored.
      this.stopSettingsAckTimer();
      return;
    }
    readPeerSettings(payload, this.peerSettings);
    this.settingsReceived = true;
    this.checkFlood('SETTINGS');
    this.output.writer.settings([], true);
    this.output.scheduleFlush();
  }

  /** A new SETTINGS_INITIAL_WINDOW_SIZE changes every open stream's send window by the difference. */
  private peerInitialWindowChanged(value: number): void {
    const change = value - this.peerInitialWindow;
    this.peerInitialWindow = value;
    for (const stream of this.streams.values()) {
      stream.sendWindow += change;
      if (stream.sendWindow > LARGEST_WINDOW_BYTES)
        throw new Http2ConnectionError(FLOW_CONTROL_ERROR, 'a stream window beyond 2^31-1');
    }
    if (change > 0) this.output.unblockAll();
  }

  private ping(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new Http2ConnectionError(PROTOCOL_ERROR, 'PING on a stream');
    if (payload.length !== 8) throw new Http2ConnectionError(FRAME_SIZE_ERROR, 'PING not 8 octets');
    if ((flags & FLAG_ACK) !== 0) return;
    this.checkFlood('PING');
    this.output.writer.pingAck(payload);
    this.output.scheduleFlush();
  }

  /**
   * A frame that asks for an answer (PING, SETTINGS, a request, one we reset), from a client that
   * does not read the answers it asked for: past `SOCKET_FLOOD_BYTES` unsent, ENHANCE_YOUR_CALM.
   * (Go's server counts queued control frames instead, 10,000; bytes also bound big answers.)
   */
  private checkFlood(frame: string): void {
    if (this.output.unsentBytes > SOCKET_FLOOD_BYTES)
      throw new Http2ConnectionError(
        ENHANCE_YOUR_CALM,
        `${frame} flood: the client does not read its answers`,
      );
  }

  private windowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new Http2ConnectionError(FRAME_SIZE_ERROR, 'WINDOW_UPDATE not 4 octets');
    const increment = payload.readUInt32BE(0) & 0x7fff_ffff;
    if (streamId === 0) {
      if (increment === 0) throw new Http2ConnectionError(PROTOCOL_ERROR, 'a WINDOW_UPDATE of 0');
      this.output.sendWindow += increment;
      if (this.output.sendWindow > LARGEST_WINDOW_BYTES)
        throw new Http2ConnectionError(FLOW_CONTROL_ERROR, 'the connection window beyond 2^31-1');
      this.output.unblockAll();
      return;
    }
    if (this.idle(streamId))
      throw new Http2ConnectionError(PROTOCOL_ERROR, 'WINDOW_UPDATE on an idle stream');
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    if (increment === 0) {
      this.resetStream(streamId, PROTOCOL_ERROR);
      return;
    }
    stream.sendWindow += increment;
    if (stream.sendWindow > LARGEST_WINDOW_BYTES) {
      this.resetStream(streamId, FLOW_CONTROL_ERROR);
      return;
    }
    this.output.streamWindowOpened(stream);
  }

  // ---- what streams ask of the connection

  blockOf(headers: OutgoingHttpHeaders): Buffer {
    return this.options.blocks.blockOf(headers);
  }

  scheduleOutput(stream: Http2ServerStream): void {
    this.output.schedule(stream);
  }

  consumed(bytes: number): void {
    this.unacknowledgedBytes += bytes;
    if (this.unacknowledgedBytes < CONNECTION_RECEIVE_WINDOW_BYTES / 2 || this.ended) return;
    this.output.writer.windowUpdate(0, this.unacknowledgedBytes);
    this.receiveWindow += this.unacknowledgedBytes;
    this.unacknowledgedBytes = 0;
    this.output.scheduleFlush();
  }

  replenish(stream: Http2ServerStream, bytes: number): void {
    if (this.ended) return;
    this.output.writer.windowUpdate(stream.id, bytes);
    this.output.scheduleFlush();
  }

  streamClosed(stream: Http2ServerStream, reset: number | undefined): void {
    this.streams.delete(stream.id);
    this.output.forget(stream);
    if (this.ended) return;
    if (reset !== undefined) {
      this.output.writer.rstStream(stream.id, reset);
      this.output.scheduleFlush();
    }
    if (this.goingAway && this.streams.size === 0) this.output.endSoon();
  }
}
