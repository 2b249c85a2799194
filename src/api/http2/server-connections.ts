/**
 * The own HTTP/2 connections of one server: made from the sockets it is handed, each a
 * `Http2ServerConnection`, and closed together with grace (GOAWAY, calls in flight finish, then
 * what is left is cut).
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import { type HeaderCodec, ResponseHeaderBlocks } from './header-codec.js';
import { Http2ServerConnection } from './server-connection.js';
import type { Http2ServerStream } from './server-stream.js';

export class Http2ServerConnections {
  private readonly open = new Set<Http2ServerConnection>();
  private readonly blocks: ResponseHeaderBlocks;
  private closing = false;
  private allClosed: (() => void) | undefined = undefined;

  constructor(
    private readonly codec: HeaderCodec,
    private readonly onStream: (stream: Http2ServerStream, headers: IncomingHttpHeaders) => void,
  ) {
    this.blocks = new ResponseHeaderBlocks(codec);
  }

  get count(): number {
    return this.open.size;
  }

  inject(socket: Duplex): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const connection = new Http2ServerConnection(socket, {
      codec: this.codec,
      blocks: this.blocks,
      onStream: this.onStream,
      onClose: (closed) => {
        this.open.delete(closed);
        if (this.open.size === 0) this.allClosed?.();
      },
    });
    this.open.add(connection);
  }

  /** GOAWAY to every connection; after `graceMs` the ones still open are cut. */
  close(graceMs: number): Promise<void> {
    this.closing = true;
    for (const connection of this.open) connection.shutdown();
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        for (const connection of [...this.open]) connection.destroy();
        this.open.clear();
        resolve();
      }, graceMs);
      this.allClosed = () => {
        clearTimeout(force);
        resolve();
      };
    });
  }
}
