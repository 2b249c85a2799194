/**
 * A unary call's successful answer (response HEADERS, the message's DATA, the `grpc-status: 0`
 * trailers) in one write of the session, in the turn the answer is made. Through Node's public
 * HTTP/2 API the trailers leave a turn later, in a write of their own (Node 20's
 * lib/internal/http2/core.js and src/node_http2.cc):
 *
 * - With `respond(headers, { waitForTrailers: true })`, `end(message)` shuts the stream's writable
 *   side only once the message's write completed, that is once the session's write (a native
 *   immediate) sent it; only then does nghttp2 find the stream's data done and ask for trailers
 *   ('wantTrailers').
 * - `sendTrailers` submits them from a `setImmediate`, and the session writes that submission
 *   from another native immediate, which, queued from inside the check phase, runs in the next
 *   turn, after that turn's poll.
 *
 * Here, after `respond`, the stream's "has trailers" flag on the JavaScript side is cleared, as
 * `sendTrailers` clears it, so that `end` shuts the writable side at once (what it does for a
 * stream without trailers; the native stream still holds END_STREAM back for the trailers); and
 * in 'wantTrailers', which nghttp2 then raises while it packs the message's last DATA frame, the
 * trailers are submitted to the native stream at once, which nghttp2 allows from that callback:
 * they are packed into the same write. That reads two private fields of Node's stream (found by
 * their symbols' descriptions on the first stream) and hands the trailers over in the native
 * binding's header-list format, so it is used on Node 20 only, for the OK trailers only, and
 * whenever a field is missing the public path is taken instead.
 */
import type { ServerHttp2Stream } from 'node:http2';
import { OK_TRAILERS } from './status-headers.js';

/** What this reads of Node's stream: its native handle, and its state's flags. */
interface StreamFields {
  readonly handle: symbol;
  readonly state: symbol;
}

interface NativeStream {
  /** `[name\0value\0flags..., count]`, as Node's `mapToHeaders` makes it; below 0 on failure. */
  trailers(headerList: readonly [string, number]): number;
}

interface StreamState {
  flags: number;
}

type FieldHolder = Record<symbol, unknown>;

/** The node:http2 stream flag `respond({ waitForTrailers: true })` sets (core.js). */
const STREAM_FLAGS_HAS_TRAILERS = 0x20;
/** The Node major whose internals this follows. */
const NODE_MAJOR = '20';
/** `OK_TRAILERS` in that format: each header is name, NUL, value, NUL, one character of nghttp2 flags (0: none). */
const OK_TRAILER_LIST: readonly [string, number] = Object.freeze([
  Object.entries(OK_TRAILERS)
    .map(([name, value]) => `${name}\u0000${String(value)}\u0000\u0000`)
    .join(''),
  Object.keys(OK_TRAILERS).length,
] as const);

/** Undefined until the first stream is looked at; null when this Node does not have them. */
let fields: StreamFields | null | undefined;

function fieldsOf(stream: ServerHttp2Stream): StreamFields | null {
  if (fields !== undefined) return fields;
  if (process.versions.node.split('.')[0] !== NODE_MAJOR) {
    fields = null;
    return fields;
  }
  const holder = stream as unknown as FieldHolder;
  const symbols = Object.getOwnPropertySymbols(stream);
  const handle = symbols.find(
    (symbol) =>
      symbol.description === 'kHandle' && typeof nativeStream(holder[symbol])?.trailers === 'function',
  );
  const state = symbols.find(
    (symbol) => symbol.description === 'state' && typeof streamState(holder[symbol])?.flags === 'number',
  );
  fields = handle === undefined || state === undefined ? null : { handle, state };
  return fields;
}

function nativeStream(value: unknown): NativeStream | undefined {
  return typeof value === 'object' && value !== null ? (value as NativeStream) : undefined;
}

function streamState(value: unknown): StreamState | undefined {
  return typeof value === 'object' && value !== null ? (value as StreamState) : undefined;
}

/**
 * After `respond(headers, { waitForTrailers: true })` and before `end(message)`: lets `end` shut
 * the writable side at once. True when it did, and then the 'wantTrailers' listener must be
 * `sendOkTrailersNow`; false when the public path is to be taken.
 */
export function shutAfterMessage(stream: ServerHttp2Stream): boolean {
  const found = fieldsOf(stream);
  if (found === null) return false;
  const holder = stream as unknown as FieldHolder;
  const state = streamState(holder[found.state]);
  if (typeof nativeStream(holder[found.handle])?.trailers !== 'function' || state === undefined) return false;
  state.flags &= ~STREAM_FLAGS_HAS_TRAILERS;
  return true;
}

/**
 * In 'wantTrailers' of a stream `shutAfterMessage` prepared: submits the OK trailers to the native
 * stream at once, so that they leave in the write that is packing the message.
 */
export function sendOkTrailersNow(stream: ServerHttp2Stream): void {
  const found = fieldsOf(stream);
  const handle = found === null ? undefined : nativeStream((stream as unknown as FieldHolder)[found.handle]);
  if (handle === undefined) {
    stream.sendTrailers(OK_TRAILERS);
    return;
  }
  // As Node's own submission does when nghttp2 refuses (the stream is gone).
  if (handle.trailers(OK_TRAILER_LIST) < 0) stream.destroy();
}
