/**
 * A streaming call (client, server or both streaming) as the object-mode Duplex that handlers
 * use, with the surface they use of grpc-js's stream calls: read with 'data'/'end', `pause`,
 * `resume` or async iteration (the HTTP/2 stream stops being read while the handler holds 16
 * unread messages, so flow control holds the client back); `write(message, callback)` returning
 * false while 16 messages wait to be handed to the connection, then 'drain'; `end()` ends the
 * call with OK after the messages written; `emit('error', serviceError)` ends it with that status
 * after them; `request` and `metadata`, `getDeadline()`, `cancelled`. Once the call is over
 * (status sent, client cancel, deadline, connection lost) it emits 'cancelled' and is destroyed
 * ('close'), as grpc-js's calls are. Streams are not the hot path: this favours grpc-js's
 * semantics over saving objects.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { Duplex } from 'node:stream';
import { status as Status } from '@grpc/grpc-js';
import { type AuthContext, authContextOf } from './auth-context.js';
import {
  DEADLINE_EXCEEDED,
  encodeResponse,
  encodingOf,
  HANDLER_THREW,
  noRequestMessage,
  respondTrailersOnly,
  secondRequestMessage,
  streamGone,
  timeoutOf,
} from './call-start.js';
import { CallStatusError } from './call-status-error.js';
import type { CallStream } from './call-stream.js';
import { decodeRequest } from './decode-request.js';
import { type FramedMessage, frameMessage, MessageReader, MessageTooLargeError } from './message-framing.js';
import { HeaderMetadata, type RequestMetadata } from './request-metadata.js';
import type { CallLimits, ServedMethod } from './served-methods.js';
import {
  type CallStatus,
  RESPONSE_HEADERS,
  statusOfError,
  statusTrailers,
  WITH_TRAILERS,
} from './status-headers.js';

const OK_STATUS: CallStatus = Object.freeze({ code: Status.OK, details: 'OK' });

function noop(): void {}

export class StreamCall extends Duplex {
  /** The request of a server-streaming call. */
  request: unknown = undefined;
  cancelled = false;
  private metadataView: HeaderMetadata | undefined = undefined;
  private deadlineAtMs = Number.POSITIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly reader: MessageReader;
  private readonly encoding: string | undefined;
  private pendingStatus: CallStatus = OK_STATUS;
  private headersSent = false;
  private over = false;
  /** A server-streaming call before its handler runs: the one request message is being read. */
  private readingRequest: boolean;
  private requestCount = 0;

  constructor(
    private readonly stream: CallStream,
    private readonly headers: IncomingHttpHeaders,
    private readonly method: ServedMethod,
    private readonly limits: CallLimits,
  ) {
    super({ objectMode: true, allowHalfOpen: true });
    this.reader = new MessageReader(limits.receiveMessageBytes);
    this.encoding = encodingOf(headers);
    this.readingRequest = method.kind === 'serverStream';
    this.on('error', (error: unknown) => {
      if (this.over) return;
      this.pendingStatus = statusOfError(error);
      if (!this.writableEnded) this.end();
    });
    stream.on('data', (chunk: Buffer) => this.takeChunk(chunk));
    stream.on('end', () => this.halfClosed());
    stream.on('close', () => this.finish());
  }

  get metadata(): RequestMetadata {
    this.metadataView ??= new HeaderMetadata(this.headers, this.stream);
    return this.metadataView;
  }

  getDeadline(): number {
    return this.deadlineAtMs;
  }

  getPath(): string {
    return this.method.path;
  }

  /** The connection's TLS as grpc-js's `getAuthContext()` answers it (a verified client certificate). */
  getAuthContext(): AuthContext {
    return authContextOf(this.stream);
  }

  /** Runs the handler now (client and bidi streams), or once the request is read (server streams). */
  start(timeoutMs: number | undefined): void {
    if (timeoutMs !== undefined) {
      this.deadlineAtMs = Date.now() + timeoutMs;
      this.timer = setTimeout(() => this.sendStatus(DEADLINE_EXCEEDED), timeoutMs);
    }
    if (!this.readingRequest) this.runHandler();
  }

  override _read(): void {
    if (!this.over && this.stream.isPaused()) this.stream.resume();
  }

  override _write(
    message: unknown,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.sendMessage(message, callback);
  }

  /** Frames and writes one response message; `callback` runs once the connection took it (or it was dropped). */
  private sendMessage(message: unknown, callback: () => void): void {
    if (this.over || streamGone(this.stream)) {
      callback();
      return;
    }
    const bytes = encodeResponse(this.method, this.limits, message);
    if (!Buffer.isBuffer(bytes)) {
      this.sendStatus(bytes);
      callback();
      return;
    }
    this.sendHeaders();
    this.stream.write(frameMessage(bytes), () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
    this.sendStatus(this.pendingStatus);
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.stream.respond(RESPONSE_HEADERS, WITH_TRAILERS);
  }

  /** Ends the call with `status` (once): trailers after the messages sent, or trailers-only. */
  private sendStatus(status: CallStatus): void {
    if (this.over) return;
    const stream = this.stream;
    if (!streamGone(stream)) {
      if (this.headersSent) {
        stream.once('wantTrailers', () => stream.sendTrailers(statusTrailers(status)));
        stream.end();
      } else {
        respondTrailersOnly(stream, status);
      }
    }
    this.finish();
  }

  /** The call is over: nothing more is sent or read; handlers see 'cancelled' then 'close'. */
  private finish(): void {
    if (this.over) return;
    this.over = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    // grpc-js tells its handlers on the next tick, after the status went out.
    process.nextTick(() => {
      this.cancelled = true;
      this.emit('cancelled', 'cancelled');
      this.destroy();
    });
  }

  private takeChunk(chunk: Buffer): void {
    if (this.over) return;
    const messages: FramedMessage[] = [];
    try {
      this.reader.push(chunk, messages);
    } catch (error) {
      this.sendStatus(
        error instanceof MessageTooLargeError
          ? { code: Status.RESOURCE_EXHAUSTED, details: error.message }
          : statusOfError(error),
      );
      return;
    }
    for (const message of messages) {
      let request: unknown;
      try {
        request = decodeRequest(this.method, message, this.encoding, this.limits.receiveMessageBytes);
      } catch (error) {
        this.sendStatus(error instanceof CallStatusError ? error.status : statusOfError(error));
        return;
      }
      if (this.readingRequest) {
        this.requestCount += 1;
        if (this.requestCount > 1) {
          this.sendStatus(secondRequestMessage(this.method.path));
          return;
        }
        this.request = request;
      } else if (!this.push(request)) {
        this.stream.pause();
      }
    }
  }

  private halfClosed(): void {
    if (this.over) return;
    if (!this.readingRequest) {
      this.push(null);
      return;
    }
    this.readingRequest = false;
    if (this.requestCount === 0) {
      this.sendStatus(noRequestMessage(this.method.path));
      return;
    }
    this.push(null);
    this.runHandler();
  }

  private runHandler(): void {
    try {
      this.method.handler(this, (error: unknown, value?: unknown) => this.answerClientStream(error, value));
    } catch {
      this.sendStatus(HANDLER_THREW);
    }
  }

  /** The callback of a client-streaming call: one response message, then OK; or the error's status. */
  private answerClientStream(error: unknown, value: unknown): void {
    if (this.over) return;
    if (error !== null && error !== undefined) {
      this.sendStatus(statusOfError(error));
      return;
    }
    // Straight to the HTTP/2 stream, not through the Duplex: a handler that read the requests
    // with async iteration has destroyed it by now (Node's iterator destroys a stream it finished).
    this.sendMessage(value, noop);
    this.sendStatus(OK_STATUS);
  }
}

/** Serves a client-, server- or bidi-streaming call on `stream`. */
export function serveStreaming(
  stream: CallStream,
  headers: IncomingHttpHeaders,
  method: ServedMethod,
  limits: CallLimits,
): void {
  const timeoutMs = timeoutOf(headers);
  if (typeof timeoutMs === 'object') {
    respondTrailersOnly(stream, timeoutMs);
    return;
  }
  new StreamCall(stream, headers, method, limits).start(timeoutMs);
}
