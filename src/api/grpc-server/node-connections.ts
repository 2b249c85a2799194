/**
 * The node:http2 connections of one server: Node's HTTP/2 server makes a session of each
 * connection it is handed, and a stream of each request.
 */
import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { INJECTED_CONNECTION, type MarkedSession } from './auth-context.js';
import { ignoreStreamError } from './call-start.js';

export class NodeHttp2Connections {
  private readonly http2Server: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private closing = false;
  /** The connection being handed to Node's server, for the session it makes of it at once. */
  private injecting: Duplex | undefined = undefined;

  constructor(onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void) {
    this.http2Server = http2.createServer({
      // As grpc-js: Node's session memory check refuses streams (ENHANCE_YOUR_CALM) under load
      // well before memory is short; the port's own limits bound what a connection may hold.
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
    });
    this.http2Server.setTimeout(0);
    this.http2Server.on('session', (session) => this.track(session));
    this.http2Server.on('stream', (stream, headers) => {
      stream.on('error', ignoreStreamError);
      onStream(stream, headers);
    });
  }

  get count(): number {
    return this.sessions.size;
  }

  inject(connection: Duplex): void {
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

  /** GOAWAY to every session; after `graceMs` the ones still open are destroyed. */
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
}
