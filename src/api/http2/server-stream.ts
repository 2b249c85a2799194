/**
 * One request stream of an own HTTP/2 connection (RFC 9113 section 5.1, server side): open, then
 * half-closed once the client sent END_STREAM, closed once the response ended too (or either side
 * reset it). It gives calls the `CallStream` surface (`grpc-server/call-stream.ts`): incoming DATA
 * as 'data' and 'end' (held while paused, the stream's receive window replenished as the call
 * takes it), the response as headers, DATA and trailers queued here and sent by the connection
 * within the windows, and 'close'. One listener per event: each call registers one.
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import type { CallStream } from '../grpc-server/call-stream.js';

type DataListener = (this: Http2ServerStream, chunk: Buffer) => void;
type EventListener = (this: Http2ServerStream) => void;

/** What a stream asks of its connection. */
export interface StreamConnection {
  /** The connection object a call's auth context reads the TLS socket from. */
  readonly session: object;
  blockOf(headers: OutgoingHttpHeaders): Buffer;
  /** The stream has something to send: the connection sends it within this turn's write. */
  scheduleOutput(stream: Http2ServerStream): void;
  /** The call took `bytes` of DATA: they count as free in the connection's receive window. */
  consumed(bytes: number): void;
  /** The stream took `bytes` past half its window: send it a WINDOW_UPDATE. */
  replenish(stream: Http2ServerStream, bytes: number): void;
  /** The stream closed; `reset` is the RST_STREAM code to send, when the client's side was still open. */
  streamClosed(stream: Http2ServerStream, reset: number | undefined): void;
}

const NO_CALLBACK = (): void => {};

export class Http2ServerStream implements CallStream {
  readonly ownHttp2 = true as const;
  /** The client sent END_STREAM (half-closed (remote)). */
  remoteEnded = false;
  /** Bytes the client may still send before a WINDOW_UPDATE (its view of our window). */
  receiveWindow: number;
  /** Bytes taken by the call and not yet given back with a WINDOW_UPDATE. */
  private unacknowledgedBytes = 0;
  private paused = false;
  private held: Buffer[] | undefined = undefined;
  private endHeld = false;
  /** Bytes we may send before the client's WINDOW_UPDATE. */
  sendWindow: number;
  headersSent = false;
  closed = false;
  /** In the connection's list of streams with output to send. */
  scheduled = false;
  /** Waiting for window (flow control) before its queued DATA can go. */
  blocked = false;

  /** Queued response: headers block, DATA payloads with their callbacks, then the end. */
  private headerBlock: Buffer | undefined = undefined;
  private headersEndStream = false;
  /** Made at the first write (a refusal sends none). */
  private data: Buffer[] | undefined = undefined;
  private callbacks: ((error?: Error | null) => void)[] | undefined = undefined;
  /** Bytes of `data[0]` already sent. */
  private dataOffset = 0;
  private ending = false;
  private waitForTrailers = false;
  private trailersAsked = false;
  private trailerBlock: Buffer | undefined = undefined;
  /** END_STREAM has been sent. */
  private localEnded = false;

  private onData: DataListener | undefined = undefined;
  private onEnd: EventListener | undefined = undefined;
  private onClose: EventListener | undefined = undefined;
  private onWantTrailers: EventListener | undefined = undefined;

  constructor(
    readonly id: number,
    private readonly connection: StreamConnection,
    receiveWindowBytes: number,
    sendWindowBytes: number,
    private readonly replenishAtBytes: number,
  ) {
    this.receiveWindow = receiveWindowBytes;
    this.sendWindow = sendWindowBytes;
  }

  get session(): object {
    return this.connection.session;
  }

  get destroyed(): boolean {
    return this.closed;
  }

  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'end' | 'close' | 'wantTrailers', listener: () => void): this;
  on(event: string, listener: (...args: never[]) => void): this {
    if (event === 'data') this.onData = listener as DataListener;
    else if (event === 'end') this.onEnd = listener as EventListener;
    else if (event === 'close') this.onClose = listener as EventListener;
    else if (event === 'wantTrailers') this.onWantTrailers = listener as EventListener;
    return this;
  }

  /** 'wantTrailers' comes once anyway. */
  once(event: 'wantTrailers', listener: () => void): this {
    return this.on(event, listener);
  }

  // ---- receiving

  /** A DATA payload from the client (its padding already counted free). */
  receive(chunk: Buffer): void {
    if (this.paused || this.held !== undefined) {
      this.held ??= [];
      this.held.push(chunk);
      return;
    }
    this.deliver(chunk);
  }

  /** The client's END_STREAM, after its data. */
  receiveEnd(): void {
    this.remoteEnded = true;
    if (this.held !== undefined) {
      this.endHeld = true;
      return;
    }
    // On the next tick, as node:http2's stream ends: a call's end then comes after what other
    // streams' calls were handed in the same read (their 'data' flows on the next tick).
    process.nextTick(emitEnd, this);
  }

  emitEnd(): void {
    if (!this.closed) this.onEnd?.call(this);
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    if (!this.paused) return this;
    this.paused = false;
    // Delivered on the next tick, as node:http2 does: `resume` is called from inside a reader.
    if (this.held !== undefined) process.nextTick(deliverHeld, this);
    return this;
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** Hands held data to the call until it pauses again. */
  deliverHeld(): void {
    const held = this.held;
    if (held === undefined || this.closed) return;
    while (held.length > 0 && !this.paused) this.deliver(held.shift()!);
    if (held.length > 0) return;
    this.held = undefined;
    if (this.endHeld) {
      this.endHeld = false;
      this.receiveEnd();
    }
  }

  private deliver(chunk: Buffer): void {
    this.onData?.call(this, chunk);
    this.connection.consumed(chunk.length);
    if (this.remoteEnded || this.closed) return;
    this.unacknowledgedBytes += chunk.length;
    if (this.unacknowledgedBytes >= this.replenishAtBytes) {
      this.connection.replenish(this, this.unacknowledgedBytes);
      this.receiveWindow += this.unacknowledgedBytes;
      this.unacknowledgedBytes = 0;
    }
  }

  // ---- sending

  respond(headers: OutgoingHttpHeaders, options?: { endStream?: boolean; waitForTrailers?: boolean }): void {
    if (this.closed || this.headersSent) return;
    this.headersSent = true;
    this.headerBlock = this.connection.blockOf(headers);
    this.headersEndStream = options?.endStream === true;
    this.waitForTrailers = options?.waitForTrailers === true;
    if (this.headersEndStream) this.ending = true;
    this.connection.scheduleOutput(this);
  }

  write(chunk: Buffer, callback: (error?: Error | null) => void = NO_CALLBACK): boolean {
    if (this.closed || this.ending) {
      callback();
      return false;
    }
    if (this.data === undefined || this.callbacks === undefined) {
      this.data = [chunk];
      this.callbacks = [callback];
    } else {
      this.data.push(chunk);
      this.callbacks.push(callback);
    }
    this.connection.scheduleOutput(this);
    return true;
  }

  end(chunk?: Buffer): this {
    if (chunk !== undefined) this.write(chunk);
    if (this.closed || this.ending) return this;
    this.ending = true;
    this.connection.scheduleOutput(this);
    return this;
  }

  sendTrailers(headers: OutgoingHttpHeaders): void {
    if (this.closed || this.trailerBlock !== undefined) return;
    this.trailerBlock = this.connection.blockOf(headers);
    this.connection.scheduleOutput(this);
  }

  /**
   * Sends what is queued through `out`, DATA within the windows `out` allows. Answers false when
   * DATA is left waiting for a window.
   */
  sendQueued(out: StreamOutput): boolean {
    if (this.closed) return true;
    const block = this.headerBlock;
    if (block !== undefined) {
      this.headerBlock = undefined;
      out.headers(this.id, block, this.headersEndStream);
      if (this.headersEndStream) {
        this.endSent();
        return true;
      }
    }
    const data = this.data;
    const callbacks = this.callbacks;
    while (data !== undefined && callbacks !== undefined && data.length > 0) {
      const chunk = data[0]!;
      const remaining = chunk.length - this.dataOffset;
      const bytes = remaining === 0 ? 0 : out.dataAllowance(this.sendWindow, remaining);
      if (bytes === 0 && remaining > 0) return false;
      if (bytes > 0) {
        out.data(this.id, chunk, this.dataOffset, this.dataOffset + bytes, false);
        this.sendWindow -= bytes;
        this.dataOffset += bytes;
      }
      if (this.dataOffset < chunk.length) continue;
      data.shift();
      this.dataOffset = 0;
      callbacks.shift()?.();
      if (this.closed) return true;
    }
    if (!this.ending || this.localEnded) return true;
    if (!this.waitForTrailers) {
      out.data(this.id, undefined, 0, 0, true);
      this.endSent();
      return true;
    }
    if (!this.trailersAsked) {
      this.trailersAsked = true;
      this.onWantTrailers?.call(this);
    }
    const trailers = this.trailerBlock;
    if (trailers !== undefined && !this.closed) {
      out.headers(this.id, trailers, true);
      this.endSent();
    }
    return true;
  }

  private endSent(): void {
    this.localEnded = true;
    if (this.remoteEnded) this.finish(undefined);
    // The response is complete while the client still sends: ask it to stop (RFC 9113 section 8.1).
    else this.finish(0 /* NO_ERROR */);
  }

  /** The client reset the stream, or the connection is gone: the stream closes with nothing more sent. */
  abort(): void {
    this.finish(undefined);
  }

  /** Closes the stream (once): drops what was queued, tells the connection, then the call. */
  finish(reset: number | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.held = undefined;
    const callbacks = this.callbacks;
    this.data = undefined;
    this.callbacks = undefined;
    this.connection.streamClosed(this, reset);
    for (const callback of callbacks ?? []) callback();
    this.onClose?.call(this);
  }
}

function emitEnd(stream: Http2ServerStream): void {
  stream.emitEnd();
}

function deliverHeld(stream: Http2ServerStream): void {
  stream.deliverHeld();
}

/** Where a stream writes its frames: the connection, which knows the windows and frame size. */
export interface StreamOutput {
  headers(streamId: number, block: Buffer, endStream: boolean): void;
  data(streamId: number, chunk: Buffer | undefined, from: number, to: number, endStream: boolean): void;
  /** How many of `wanted` bytes may go now within the stream's window, the connection's and the socket's. */
  dataAllowance(streamWindow: number, wanted: number): number;
}
