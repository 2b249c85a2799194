/**
 * MeshOS's gRPC server on node:http2, in place of grpc-js's `Server` for the client port: it
 * serves grpc-js service definitions and implementations unchanged, on connections handed to it
 * (`injectConnection`, as from grpc-js's connection injector). Per call it makes little beyond
 * Node's own HTTP/2 stream (see `unary-call.ts`): that is what it is for.
 *
 * Refusals are grpc-js's: a request that is not gRPC gets HTTP 415; an unknown method
 * UNIMPLEMENTED (trailers-only). Keepalive PINGs are answered by Node's HTTP/2 session.
 */
import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { type ServiceDefinition, status as Status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { INJECTED_CONNECTION, type MarkedSession } from './auth-context.js';
import { ignoreStreamError } from './call-start.js';
import { addServedMethods, type CallLimits, type ServedMethod } from './served-methods.js';
import { END_STREAM, trailersOnly, UNSUPPORTED_MEDIA_TYPE_HEADERS } from './status-headers.js';
import { serveStreaming } from './stream-call.js';
import { serveUnary } from './unary-call.js';

export interface GrpcServerOptions {
  /** Largest request message accepted (bytes); larger ones end their call with RESOURCE_EXHAUSTED. */
  readonly maxReceiveMessageBytes: number;
  /** Largest response message sent (bytes); a larger one ends its call with RESOURCE_EXHAUSTED. */
  readonly maxSendMessageBytes: number;
}

export class GrpcServer {
  private readonly methods = new Map<string, ServedMethod>();
  private readonly limits: CallLimits;
  private readonly http2Server: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private closing = false;
  /** The connection being handed to Node's server, for the session it makes of it at once. */
  private injecting: Duplex | undefined = undefined;

  constructor(options: GrpcServerOptions) {
    this.limits = {
      receiveMessageBytes: options.maxReceiveMessageBytes,
      sendMessageBytes: options.maxSendMessageBytes,
    };
    this.http2Server = http2.createServer({
      // As grpc-js: Node's session memory check refuses streams (ENHANCE_YOUR_CALM) under load
      // well before memory is short; the port's own limits bound what a connection may hold.
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
    });
    this.http2Server.setTimeout(0);
    this.http2Server.on('session', (session) => this.track(session));
    this.http2Server.on('stream', (stream, headers) => this.serve(stream, headers));
  }

  addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    addServedMethods(this.methods, definition, implementation);
  }

  /** Serves a connection accepted elsewhere (a socket, or any duplex carrying HTTP/2). */
  injectConnection(connection: Duplex): void {
    if (this.closing) {
      connection.destroy();
      return;
    }
    this.injecting = connection;
    try {
      this.http2Server.emit('connection', connection);
    } finally {
      this.injecting = undefined;
    }
  }

  /** Open HTTP/2 connections. */
  get connections(): number {
    return this.sessions.size;
  }

  /**
   * Sends every connection a GOAWAY (no new calls; calls in flight go on), then destroys the
   * connections still open after `graceMs`; resolves once none is left.
   */
  close(graceMs: number): Promise<void> {
    this.closing = true;
    for (const session of this.sessions) session.close();
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        for (const session of this.sessions) session.destroy(undefined, http2.constants.NGHTTP2_CANCEL);
        this.sessions.clear();
        resolve();
      }, graceMs);
      const check = (): void => {
        if (this.sessions.size > 0) return;
        clearTimeout(force);
        resolve();
      };
      for (const session of this.sessions) session.once('close', check);
    });
  }

  private track(session: http2.ServerHttp2Session): void {
    if (this.closing) {
      session.destroy();
      return;
    }
    if (this.injecting !== undefined)
      (session as http2.ServerHttp2Session & MarkedSession)[INJECTED_CONNECTION] = this.injecting;
    this.sessions.add(session);
    session.on('error', ignoreStreamError);
    session.once('close', () => this.sessions.delete(session));
  }

  private serve(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', ignoreStreamError);
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
