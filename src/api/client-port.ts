/**
 * The etcd API's TCP listener. With MeshOS's own HTTP/2 (`http2/`, the default) it hands each
 * socket to the gRPC server as it comes: that server takes any authority, as etcd does. With
 * node:http2 or grpc-js (`MESHOS_CLIENT_PORT_SERVER`) a plain listener would hand every connection
 * straight to Node's HTTP/2 server, which resets any request whose `:authority` is not a plain
 * host[:port]; etcd's Go
 * client sends `http://host:port` there for its per-endpoint calls (`etcdctl endpoint status`,
 * `defrag`, `move-leader`, clientv3 `Status`). This listener reads each connection's first
 * frames itself (see `ClientStreamFilter`) and then injects it into the gRPC server:
 *
 * - as the socket itself when its requests are fine: Node's native HTTP/2 path, with nothing
 *   from here in the way of later requests;
 * - through a `RepairedConnection` otherwise: every byte the client sends passes through the
 *   filter, which rewrites header blocks with a bad authority.
 *
 * With TLS (`client-port-tls.ts`) the listener is a `tls.Server` and the same judgement runs on
 * each TLS socket once its handshake ended and its client passed the certificate check.
 */
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import { createServer as createTlsServer } from 'node:tls';
import { assert, type Logger, MeshError } from '../lib/index.js';
import {
  type ClientPortTls,
  type ClientTlsRefusalReason,
  type ClientTlsRefusals,
  clientPortServerOptions,
  newClientTlsRefusals,
  refusalOf,
} from './client-port-tls.js';
import { ClientStreamFilter } from './client-stream-filter.js';
import { EMPTY_SETTINGS_FRAME } from './http2-frames.js';

/** How long a connection may stay undecided (no request yet) before it is handed over as it is. */
export const AUTHORITY_CHECK_WINDOW_MS = 2_000;
/** Client bytes held while a connection is undecided; past this it is handed over as it is. */
export const MAX_UNDECIDED_BYTES = 256 * 1024;
/** At most one log line per this long about TLS refusals (a scanner must not flood the log). */
export const TLS_REFUSAL_LOG_INTERVAL_MS = 1_000;

/** Where the port hands its connections: MeshOS's gRPC server, or grpc-js's connection injector. */
export interface ConnectionInjector {
  injectConnection(connection: Duplex): void;
  /**
   * The server takes any `:authority` itself (MeshOS's own HTTP/2): the port hands it each socket
   * as it comes, with nothing read or rewritten here.
   */
  readonly takesAnyAuthority?: boolean;
}

export interface ClientPortCounters {
  /** Connections handed to the HTTP/2 server as sockets. */
  readonly native: number;
  /** Connections whose header blocks are rewritten. */
  readonly repaired: number;
}

export interface ClientPort {
  readonly port: number;
  readonly counters: ClientPortCounters;
  /**
   * Stops listening and drops connections not yet handed over; connections already handed
   * over belong to the gRPC server, whose shutdown ends them.
   */
  close(): void;
  /**
   * Destroys every connection still open; answers how many there were. For after the gRPC
   * server's shutdown: it ends a connection by flushing what it wrote first, which never
   * completes while the client does not read (a stopped or starved process), and an open
   * socket keeps the node's process alive.
   */
  destroyConnections(): number;
  /**
   * Serves new connections with this TLS material from now on (connections open keep theirs);
   * CLIENT_TLS when it does not load, and the port keeps what it had. Only for a TLS port, and
   * client certificate auth stays as the port started.
   */
  reloadTls(material: ClientPortTls): void;
}

export interface ClientPortOptions {
  readonly host: string;
  readonly port: number;
  readonly injector: ConnectionInjector;
  readonly logger: Logger;
  /** Serve TLS with this material; plaintext without it. */
  readonly tls?: ClientPortTls;
  /** Where TLS refusals are counted (the node keeps one across restarts of its port). */
  readonly tlsRefusals?: ClientTlsRefusals;
}

export function listenClientPort(options: ClientPortOptions): Promise<ClientPort> {
  const undecided = new Set<net.Socket>();
  const open = new Set<net.Socket>();
  const counters = { native: 0, repaired: 0 };
  let closed = false;
  const accept = (socket: net.Socket): void => {
    if (closed) {
      socket.destroy();
      return;
    }
    if (options.injector.takesAnyAuthority === true) {
      socket.setNoDelay(true);
      counters.native += 1;
      options.injector.injectConnection(socket);
      return;
    }
    undecided.add(socket);
    judge(socket, options.injector, options.logger, (verdict) => {
      undecided.delete(socket);
      counters[verdict] += 1;
    });
  };
  const secure =
    options.tls === undefined
      ? undefined
      : secureListener(options.tls, options.tlsRefusals ?? newClientTlsRefusals(), options.logger, accept);
  const server = secure?.server ?? net.createServer(accept);
  // The TCP socket under each connection (under its TLS socket with TLS), destroyed at the end.
  server.on('connection', (socket: net.Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return new Promise((resolve, reject) => {
    const refuse = (error: Error): void =>
      reject(
        new MeshError('CLIENT_LISTEN', `cannot listen on ${options.host}:${options.port}: ${error.message}`, {
          cause: error,
        }),
      );
    server.once('error', refuse);
    server.listen(options.port, options.host, () => {
      server.off('error', refuse);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        counters,
        close: () => {
          closed = true;
          server.close();
          for (const socket of undecided) socket.destroy();
        },
        destroyConnections: () => {
          const count = open.size;
          for (const socket of open) socket.destroy();
          open.clear();
          return count;
        },
        reloadTls: (material) => {
          assert(secure !== undefined, 'reloadTls on a plaintext client port');
          secure.reload(material);
        },
      });
    });
  });
}

/**
 * A TLS listener that hands `accept` each connection whose handshake ended and whose client passed
 * the certificate check; every other connection is refused, counted in `refusals` and logged.
 */
function secureListener(
  settings: ClientPortTls,
  refusals: ClientTlsRefusals,
  logger: Logger,
  accept: (socket: net.Socket) => void,
): { server: tls.Server; reload: (material: ClientPortTls) => void } {
  const log = refusalLog(logger);
  const server = createTlsServer(clientPortServerOptions(settings), (socket) => {
    const reason = refusalOf(socket, settings);
    if (reason === undefined) {
      accept(socket);
      return;
    }
    refusals[reason] += 1;
    log(reason, socket.remoteAddress, socket.authorizationError?.message);
    socket.destroy();
  });
  server.on('tlsClientError', (error, socket) => {
    refusals.handshake += 1;
    log('handshake', socket.remoteAddress, error.message);
    socket.destroy();
  });
  const reload = (material: ClientPortTls): void => {
    const next = { ...material, clientCertificateAuth: settings.clientCertificateAuth };
    server.setSecureContext(clientPortServerOptions(next));
  };
  return { server, reload };
}

/** Logs a refusal, at most one line per `TLS_REFUSAL_LOG_INTERVAL_MS` with how many went unlogged. */
function refusalLog(
  logger: Logger,
): (reason: ClientTlsRefusalReason, remote: string | undefined, detail: string | undefined) => void {
  let lastLoggedAtMs = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  return (reason, remote, detail) => {
    const nowMs = Date.now();
    if (nowMs - lastLoggedAtMs < TLS_REFUSAL_LOG_INTERVAL_MS) {
      unlogged += 1;
      return;
    }
    lastLoggedAtMs = nowMs;
    logger.warn(
      { reason, remote, detail, unloggedBefore: unlogged },
      'client port: refused a TLS connection',
    );
    unlogged = 0;
  };
}

/** Reads the connection's first frames until the filter can say which way it goes. */
function judge(
  socket: net.Socket,
  injector: ConnectionInjector,
  logger: Logger,
  settled: (verdict: 'native' | 'repaired') => void,
): void {
  socket.setNoDelay(true);
  const filter = new ClientStreamFilter();
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let done = false;
  /** Our SETTINGS is written (see `decide`); what waits for it. */
  let greeted = false;
  let afterGreeting: (() => void) | undefined;

  const finish = (): void => {
    done = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', onError);
    socket.off('close', onClose);
  };
  const decide = (now: boolean): void => {
    if (done) return;
    let verdict = filter.verdict();
    if (verdict === 'wait' && !now) return;
    if (verdict === 'wait') {
      verdict = filter.settingsAcknowledged ? 'native' : 'repair';
      if (verdict === 'repair') filter.startRepairing();
    }
    finish();
    if (verdict === 'native') {
      socket.pause();
      const unread = [...held, ...filter.takeUnprocessed()];
      if (unread.length > 0) socket.unshift(Buffer.concat(unread));
      settled('native');
      // Node's HTTP/2 session writes to a TLS socket natively, and TLS takes one write at a time:
      // a session that writes (its GOAWAY for a bad preface) while our SETTINGS is still being
      // written aborts the whole process (an assertion in TLSWrap::DoWrite). Hand it over after.
      if (greeted) injector.injectConnection(socket);
      else afterGreeting = () => injector.injectConnection(socket);
    } else {
      logger.debug(
        { remote: socket.remoteAddress },
        'etcd api: rewriting request authorities on a connection',
      );
      settled('repaired');
      injector.injectConnection(new RepairedConnection(socket, filter, held));
    }
  };
  const onData = (chunk: Buffer): void => {
    try {
      for (const piece of filter.push(chunk)) {
        held.push(piece);
        heldBytes += piece.byteLength;
      }
    } catch (error) {
      logger.debug({ err: error }, 'etcd api: dropping a connection that breaks HTTP/2');
      finish();
      socket.destroy();
      return;
    }
    decide(heldBytes > MAX_UNDECIDED_BYTES);
  };
  const onEnd = (): void => decide(true);
  const onError = (): void => {
    finish();
    socket.destroy();
  };
  const onClose = (): void => finish();
  const timer = setTimeout(() => decide(true), AUTHORITY_CHECK_WINDOW_MS);

  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', onClose);
  // Clients wait for the server's SETTINGS before their first request; the filter removes their
  // acknowledgement of this one, so the HTTP/2 server never sees an answer to what it did not send.
  socket.write(EMPTY_SETTINGS_FRAME, (error) => {
    greeted = true;
    if (error !== undefined && error !== null) socket.destroy();
    else afterGreeting?.();
  });
}

/** A client connection whose every incoming byte passes through the filter. */
class RepairedConnection extends Duplex {
  constructor(
    private readonly socket: net.Socket,
    filter: ClientStreamFilter,
    held: readonly Uint8Array[],
  ) {
    super();
    for (const piece of held) this.push(piece);
    socket.on('data', (chunk: Buffer) => {
      let pieces: Uint8Array[];
      try {
        pieces = filter.push(chunk);
      } catch (error) {
        this.destroy(error as Error);
        return;
      }
      for (const piece of pieces) if (!this.push(piece)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
    socket.resume();
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  /** With TLS: whether the client's certificate was verified (see `grpc-server/auth-context.ts`). */
  get authorized(): boolean | undefined {
    return (this.socket as Partial<tls.TLSSocket>).authorized;
  }

  getPeerCertificate(): tls.PeerCertificate | Record<string, never> {
    const socket = this.socket as Partial<tls.TLSSocket>;
    return socket.getPeerCertificate === undefined ? {} : socket.getPeerCertificate.call(socket);
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
