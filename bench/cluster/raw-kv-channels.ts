import * as http2 from 'node:http2';
import { status as grpcStatus, type MethodDefinition } from '@grpc/grpc-js';
import { etcdServices } from '../../src/api/proto.js';

/**
 * The load generator's gRPC client: unary KV calls over plain `node:http2` sessions with
 * request bodies serialized by the same protobuf definitions the servers use. The answer's
 * gRPC status is checked; its body is not decoded. This spends a fraction of the CPU per call
 * that @grpc/grpc-js spends, which matters because the load generator shares the machine's
 * cores with the system it measures: a heavy generator squeezes every system toward the same
 * rate and hides the difference between them.
 */
const GRPC_FRAME_HEADER_BYTES = 5;
/** How often deadlines are checked; a request may outlive its deadline by up to this. */
const DEADLINE_SWEEP_MS = 5;

export class RawCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface InFlight {
  readonly stream: http2.ClientHttp2Stream;
  readonly deadline: number;
  readonly reject: (error: Error) => void;
}

/** Serializes a request message of one KV method (`Put`, `Range`, ...) into a gRPC frame. */
export function kvRequestFrame(method: string, request: object): Buffer {
  const definition = etcdServices().kv[method];
  if (definition === undefined) throw new Error(`no KV method ${method}`);
  return grpcRequestFrame(definition, request);
}

/** Serializes a request message of any method (a gRPC service definition's entry) into a frame. */
export function grpcRequestFrame(definition: MethodDefinition<object, unknown>, request: object): Buffer {
  const message = definition.requestSerialize(request);
  const frame = Buffer.allocUnsafe(GRPC_FRAME_HEADER_BYTES + message.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(message.byteLength, 1);
  message.copy(frame, GRPC_FRAME_HEADER_BYTES);
  return frame;
}

/** A call on a connection that never opened (refused): the request was never sent. */
/** PEM of the CA the client ports' certificates chain to, and the load's client certificate. */
export interface BenchClientTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export const NOT_CONNECTED_MESSAGE = 'connection not established (request never sent)';

/**
 * `channelsPerEndpoint` HTTP/2 connections per endpoint, shared by many clients, each
 * reconnected on the next call after it closes.
 */
export class RawKvChannels {
  private readonly sessions: Array<http2.ClientHttp2Session | undefined>;
  private readonly inFlight = new Set<InFlight>();
  /** Sessions whose connection was established: a stream on any other was never sent. */
  private readonly connected = new WeakSet<http2.ClientHttp2Session>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    readonly endpoints: readonly string[],
    channelsPerEndpoint: number,
    /** TLS to the client ports (with a client certificate); plaintext without it. */
    private readonly tls?: BenchClientTls,
  ) {
    this.sessions = new Array(endpoints.length * channelsPerEndpoint).fill(undefined);
    this.sweep = setInterval(() => this.expire(), DEADLINE_SWEEP_MS);
  }

  get size(): number {
    return this.sessions.length;
  }

  endpointOf(index: number): string {
    return this.endpoints[index % this.endpoints.length] ?? '';
  }

  /** One unary KV call on channel `index`; resolves when the server answers with status OK. */
  call(index: number, method: string, frame: Buffer, timeoutMs: number): Promise<void> {
    return this.callPath(index, `/etcdserverpb.KV/${method}`, frame, timeoutMs);
  }

  /**
   * One unary call of any service's method by its gRPC path (`/meshos.v1.Daemons/Send`): the
   * daemons bench measures its events with the same cheap client as the KV puts it compares to.
   */
  callPath(index: number, grpcPath: string, frame: Buffer, timeoutMs: number): Promise<void> {
    const slot = index % this.sessions.length;
    let session = this.sessions[slot];
    if (session === undefined || session.closed || session.destroyed) {
      session =
        this.tls === undefined
          ? http2.connect(`http://${this.endpointOf(slot)}`)
          : http2.connect(`https://${this.endpointOf(slot)}`, { ...this.tls, servername: '' });
      session.on('error', () => {});
      const opened = session;
      opened.once('connect', () => this.connected.add(opened));
      opened.on('close', () => {
        if (this.sessions[slot] === opened) this.sessions[slot] = undefined;
      });
      this.sessions[slot] = session;
    }
    return new Promise<void>((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request({
          ':method': 'POST',
          ':path': grpcPath,
          'content-type': 'application/grpc',
          te: 'trailers',
          // The deadline as gRPC clients send it, so the server answers (or gives up) within it.
          'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
        });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      const entry: InFlight = { stream, deadline: Date.now() + timeoutMs, reject };
      this.inFlight.add(entry);
      let status: number | undefined;
      let message = '';
      const noteStatus = (headers: http2.IncomingHttpHeaders): void => {
        const value = headers['grpc-status'];
        if (value !== undefined) {
          status = Number(value);
          message = String(headers['grpc-message'] ?? '');
        }
      };
      stream.on('response', noteStatus);
      stream.on('trailers', noteStatus);
      stream.on('data', () => {});
      stream.on('error', () => {});
      stream.on('close', () => {
        if (!this.inFlight.delete(entry)) return;
        if (status === 0) resolve();
        else if (status !== undefined) reject(new RawCallError(status, decodeURIComponent(message)));
        else
          reject(
            new RawCallError(
              grpcStatus.UNAVAILABLE,
              this.connected.has(session) ? 'stream closed without a status' : NOT_CONNECTED_MESSAGE,
            ),
          );
      });
      stream.end(frame);
    });
  }

  close(): void {
    clearInterval(this.sweep);
    for (const entry of this.inFlight) entry.stream.close(http2.constants.NGHTTP2_CANCEL);
    for (const session of this.sessions) session?.destroy();
  }

  private expire(): void {
    const now = Date.now();
    for (const entry of this.inFlight) {
      if (entry.deadline > now) continue;
      this.inFlight.delete(entry);
      entry.stream.close(http2.constants.NGHTTP2_CANCEL);
      entry.reject(new RawCallError(grpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded'));
    }
  }
}
