/**
 * A unary call: the hot path of the client port (every KV request), so it allocates as little as
 * it can. The call object is the only per-call object beyond Node's own stream and the handler's
 * callback: its stream listeners are shared functions that find it on the stream, the request
 * is decoded from the DATA chunk it arrived in (no copy when it arrived whole), metadata is read
 * from the headers only when a handler asks, and a deadline timer exists only when the client
 * sent a deadline. The surface is what handlers use of grpc-js's `ServerUnaryCall`: `request`,
 * `metadata`, `getDeadline()`, `getPath()`, `cancelled`.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { status as Status } from '@grpc/grpc-js';
import { traceStage } from '../../lib/node/index.js';
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
import { type FramedMessage, frameMessage, MESSAGE_PREFIX_BYTES, MessageReader } from './message-framing.js';
import { HeaderMetadata, type RequestMetadata } from './request-metadata.js';
import type { CallLimits, ServedMethod } from './served-methods.js';
import {
  type CallStatus,
  OK_TRAILERS,
  RESPONSE_HEADERS,
  statusOfError,
  statusTrailers,
  WITH_TRAILERS,
} from './status-headers.js';
import { sendOkTrailersNow, shutAfterMessage } from './trailers-with-message.js';

const CALL = Symbol('unary call');
type UnaryStream = CallStream & { [CALL]: UnaryCall };

export class UnaryCall {
  request: unknown = undefined;
  /** The call ended without an answer from the handler (client cancel, deadline, connection lost). */
  cancelled = false;
  private metadataView: HeaderMetadata | undefined = undefined;
  private deadlineAtMs = Number.POSITIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined = undefined;
  private first: Buffer | undefined = undefined;
  private more: Buffer[] | undefined = undefined;
  private receivedBytes = 0;
  private answered = false;
  /** Trailers of a success, when the handler gave trailing metadata. */
  trailers: OutgoingHttpHeaders = OK_TRAILERS;

  constructor(
    private readonly stream: CallStream,
    private readonly headers: IncomingHttpHeaders,
    private readonly method: ServedMethod,
    private readonly limits: CallLimits,
  ) {}

  get metadata(): RequestMetadata {
    this.metadataView ??= new HeaderMetadata(this.headers, this.stream);
    return this.metadataView;
  }

  /** Epoch milliseconds of the client's deadline; Infinity without one (as grpc-js). */
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

  take(chunk: Buffer): void {
    if (this.answered) return;
    this.receivedBytes += chunk.length;
    if (this.first === undefined) this.first = chunk;
    else if (this.more === undefined) this.more = [chunk];
    else this.more.push(chunk);
    const announced = this.first.length >= MESSAGE_PREFIX_BYTES ? this.first.readUInt32BE(1) : 0;
    const limit = this.limits.receiveMessageBytes;
    if (announced > limit || this.receivedBytes > limit + MESSAGE_PREFIX_BYTES) {
      this.fail({
        code: Status.RESOURCE_EXHAUSTED,
        details: `Received message larger than max (${Math.max(announced, this.receivedBytes - MESSAGE_PREFIX_BYTES)} vs. ${limit})`,
      });
    }
  }

  /** The client half-closed: decode the request and run the handler. */
  received(): void {
    traceStage?.('call-received', 0);
    if (this.answered) return;
    try {
      this.request = this.decode();
    } catch (error) {
      this.fail(error instanceof CallStatusError ? error.status : statusOfError(error));
      return;
    }
    this.first = undefined;
    this.more = undefined;
    try {
      this.method.handler(this, (error: unknown, value?: unknown, trailer?: unknown) =>
        this.answer(error, value, trailer as CallStatus['metadata']),
      );
    } catch {
      this.fail(HANDLER_THREW);
    }
  }

  startDeadline(timeoutMs: number): void {
    this.deadlineAtMs = Date.now() + timeoutMs;
    this.timer = setTimeout(expire, timeoutMs, this);
  }

  /** The stream closed: without an answer sent, the call was cancelled. */
  closed(): void {
    if (this.answered) return;
    this.answered = true;
    this.cancelled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  fail(status: CallStatus): void {
    if (this.answered) return;
    this.answered = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    respondTrailersOnly(this.stream, status);
  }

  private answer(error: unknown, value: unknown, trailer: CallStatus['metadata']): void {
    if (error !== null && error !== undefined) {
      this.fail(statusOfError(error));
      return;
    }
    if (this.answered) return;
    const bytes = encodeResponse(this.method, this.limits, value);
    if (!Buffer.isBuffer(bytes)) {
      this.fail(bytes);
      return;
    }
    this.answered = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const stream = this.stream;
    if (streamGone(stream)) return;
    if (trailer !== undefined && trailer !== null)
      this.trailers = statusTrailers({ code: Status.OK, details: 'OK', metadata: trailer });
    traceStage?.('call-answered', 0);
    stream.respond(RESPONSE_HEADERS, WITH_TRAILERS);
    // The usual answer leaves in one write, trailers included (see `trailers-with-message.ts`).
    const together =
      this.trailers === OK_TRAILERS &&
      stream.ownHttp2 !== true &&
      shutAfterMessage(stream as ServerHttp2Stream);
    // `on`, not `once`: Node asks for trailers once per stream, and `once` wraps the listener
    // in two more objects per call.
    stream.on('wantTrailers', together ? sendTrailersWithMessage : sendTrailers);
    stream.end(frameMessage(bytes));
  }

  /** The one request message; a whole, uncompressed message in one chunk is decoded in place. */
  private decode(): unknown {
    const first = this.first;
    if (first === undefined) throw new CallStatusError(noRequestMessage(this.method.path));
    const limit = this.limits.receiveMessageBytes;
    if (
      this.more === undefined &&
      first.length >= MESSAGE_PREFIX_BYTES &&
      first[0] === 0 &&
      first.readUInt32BE(1) === first.length - MESSAGE_PREFIX_BYTES
    ) {
      return decodeRequest(
        this.method,
        { compressed: false, bytes: first.subarray(MESSAGE_PREFIX_BYTES) },
        undefined,
        limit,
      );
    }
    const reader = new MessageReader(limit);
    const messages: FramedMessage[] = [];
    reader.push(first, messages);
    for (const chunk of this.more ?? []) reader.push(chunk, messages);
    if (messages.length > 1) throw new CallStatusError(secondRequestMessage(this.method.path));
    const message = messages[0];
    if (message === undefined || reader.holdsPartial)
      throw new CallStatusError(noRequestMessage(this.method.path));
    return decodeRequest(this.method, message, encodingOf(this.headers), limit);
  }
}

function expire(call: UnaryCall): void {
  call.fail(DEADLINE_EXCEEDED);
  call.cancelled = true;
}

function onData(this: UnaryStream, chunk: Buffer): void {
  this[CALL].take(chunk);
}

function onEnd(this: UnaryStream): void {
  this[CALL].received();
}

function onClose(this: UnaryStream): void {
  this[CALL].closed();
}

function sendTrailers(this: UnaryStream): void {
  traceStage?.('trailers-sent', 0);
  this.sendTrailers(this[CALL].trailers);
}

function sendTrailersWithMessage(this: UnaryStream): void {
  traceStage?.('trailers-sent', 0);
  sendOkTrailersNow(this as unknown as ServerHttp2Stream);
}

/** Serves a unary call on `stream`. */
export function serveUnary(
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
  const call = new UnaryCall(stream, headers, method, limits);
  (stream as UnaryStream)[CALL] = call;
  if (timeoutMs !== undefined) call.startDeadline(timeoutMs);
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('close', onClose);
}
