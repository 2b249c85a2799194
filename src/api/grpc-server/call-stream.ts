/**
 * What a call uses of its HTTP/2 stream: the surface node:http2's `ServerHttp2Stream` has, and the
 * stream of MeshOS's own HTTP/2 connection (`../http2/`) gives, so that one call implementation
 * serves either.
 */
import type { OutgoingHttpHeaders } from 'node:http2';

export interface CallStream {
  /** True once nothing more can be sent (closed, reset, or its connection gone). */
  readonly destroyed: boolean;
  readonly closed: boolean;
  readonly headersSent: boolean;
  /** The connection the stream belongs to: where `auth-context.ts` finds the TLS socket. */
  readonly session?: object | undefined;
  /** Set on the own connection's streams: node:http2-only shortcuts do not apply to them. */
  readonly ownHttp2?: true;
  respond(headers: OutgoingHttpHeaders, options?: { endStream?: boolean; waitForTrailers?: boolean }): void;
  /** Queues a DATA payload; `callback` once the connection took it. */
  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean;
  /** Ends the response after `chunk` (then 'wantTrailers' when the headers asked for trailers). */
  end(chunk?: Buffer): unknown;
  sendTrailers(headers: OutgoingHttpHeaders): void;
  pause(): unknown;
  resume(): unknown;
  isPaused(): boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close' | 'wantTrailers', listener: () => void): unknown;
  once(event: 'wantTrailers', listener: () => void): unknown;
}
