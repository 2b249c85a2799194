/**
 * MeshOS's gRPC server, in place of grpc-js's `Server` for the client port: it serves grpc-js
 * service definitions and implementations unchanged, on connections handed to it
 * (`injectConnection`, as from grpc-js's connection injector). Per call it makes little beyond
 * the HTTP/2 stream (see `unary-call.ts`): that is what it is for. The HTTP/2 is node:http2's
 * (`node-connections.ts`), or MeshOS's own (`../http2/`) when given an HPACK codec for it.
 *
 * Refusals are grpc-js's: a request that is not gRPC gets HTTP 415; an unknown method
 * UNIMPLEMENTED (trailers-only). Keepalive PINGs are answered by the HTTP/2 connection.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import { type ServiceDefinition, status as Status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { HeaderCodec } from '../http2/header-codec.js';
import { Http2ServerConnections } from '../http2/server-connections.js';
import type { CallStream } from './call-stream.js';
import { NodeHttp2Connections } from './node-connections.js';
import { addServedMethods, type CallLimits, type ServedMethod } from './served-methods.js';
import { END_STREAM, trailersOnly, UNSUPPORTED_MEDIA_TYPE_HEADERS } from './status-headers.js';
import { serveStreaming } from './stream-call.js';
import { serveUnary } from './unary-call.js';

export interface GrpcServerOptions {
  /** Largest request message accepted (bytes); larger ones end their call with RESOURCE_EXHAUSTED. */
  readonly maxReceiveMessageBytes: number;
  /** Largest response message sent (bytes); a larger one ends its call with RESOURCE_EXHAUSTED. */
  readonly maxSendMessageBytes: number;
  /** Serve on MeshOS's own HTTP/2 with this HPACK coding; node:http2 without it. */
  readonly ownHttp2?: HeaderCodec;
}

/** The HTTP/2 connections a server is handed, whichever HTTP/2 serves them. */
interface Connections {
  readonly count: number;
  inject(connection: Duplex): void;
  close(graceMs: number): Promise<void>;
}

export class GrpcServer {
  private readonly methods = new Map<string, ServedMethod>();
  private readonly limits: CallLimits;
  private readonly http2: Connections;

  constructor(options: GrpcServerOptions) {
    this.limits = {
      receiveMessageBytes: options.maxReceiveMessageBytes,
      sendMessageBytes: options.maxSendMessageBytes,
    };
    const serve = (stream: CallStream, headers: IncomingHttpHeaders): void => this.serve(stream, headers);
    this.http2 =
      options.ownHttp2 === undefined
        ? new NodeHttp2Connections(serve)
        : new Http2ServerConnections(options.ownHttp2, serve);
  }

  addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    addServedMethods(this.methods, definition, implementation);
  }

  /** Serves a connection accepted elsewhere (a socket, or any duplex carrying HTTP/2). */
  injectConnection(connection: Duplex): void {
    this.http2.inject(connection);
  }

  /** Open HTTP/2 connections. */
  get connections(): number {
    return this.http2.count;
  }

  /**
   * Sends every connection a GOAWAY (no new calls; calls in flight go on), then destroys the
   * connections still open after `graceMs`; resolves once none is left.
   */
  close(graceMs: number): Promise<void> {
    return this.http2.close(graceMs);
  }

  private serve(stream: CallStream, headers: IncomingHttpHeaders): void {
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      stream.respond(UNSUPPORTED_MEDIA_TYPE_HEADERS, END_STREAM);
      return;
    }
    const path = headers[':path'] ?? '';
    const method = this.methods.get(path);
    if (method === undefined) {
      stream.respond(
        trailersOnly({
          code: Status.UNIMPLEMENTED,
          details: `The server does not implement the method ${path}`,
        }),
        END_STREAM,
      );
      return;
    }
    if (method.kind === 'unary') serveUnary(stream, headers, method, this.limits);
    else serveStreaming(stream, headers, method, this.limits);
  }
}
