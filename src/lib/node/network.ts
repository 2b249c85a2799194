import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  type Address,
  type ByteStream,
  formatAddress,
  type Listener,
  type Network,
  NetworkError,
} from '../network.js';

class SocketStream implements ByteStream {
  private closed = false;
  private readonly closeHandlers: Array<(error?: Error) => void> = [];
  private failure: Error | undefined;

  constructor(private readonly socket: net.Socket) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.on('error', (error) => {
      this.failure = error;
    });
    socket.on('close', () => {
      this.closed = true;
      for (const handler of this.closeHandlers) handler(this.failure);
    });
  }

  readonly remote: string;

  write(bytes: Uint8Array): boolean {
    if (this.closed || this.socket.destroyed) return false;
    return this.socket.write(bytes);
  }

  onData(handler: (bytes: Uint8Array) => void): void {
    this.socket.on('data', (chunk: Buffer) => handler(chunk));
  }

  onClose(handler: (error?: Error) => void): void {
    if (this.closed) handler(this.failure);
    else this.closeHandlers.push(handler);
  }

  onDrain(handler: () => void): void {
    this.socket.on('drain', handler);
  }

  close(): void {
    this.socket.destroy();
  }

  peerCertificate(): tls.PeerCertificate | undefined {
    if (!(this.socket instanceof tls.TLSSocket)) return undefined;
    const certificate = this.socket.getPeerCertificate();
    return certificate && Object.keys(certificate).length > 0 ? certificate : undefined;
  }
}

export interface NodeNetworkOptions {
  /** TLS for both directions; plaintext when absent. */
  readonly tls?: { readonly server: tls.TlsOptions; readonly client: tls.ConnectionOptions };
  readonly connectTimeoutMs?: number;
  /** Told of inbound connections that TLS itself rejected (no or untrusted certificate). */
  readonly onTlsClientError?: (error: Error, remote: string) => void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** The production network: TCP, or TLS when options carry certificates. */
export class NodeNetwork implements Network {
  constructor(private readonly options: NodeNetworkOptions = {}) {}

  listen(address: Address, onConnection: (stream: ByteStream) => void): Promise<Listener> {
    const tlsOptions = this.options.tls;
    const server =
      tlsOptions === undefined
        ? net.createServer((socket) => onConnection(new SocketStream(socket)))
        : tls.createServer(tlsOptions.server, (socket) => onConnection(new SocketStream(socket)));
    if (tlsOptions !== undefined && this.options.onTlsClientError !== undefined) {
      const report = this.options.onTlsClientError;
      server.on('tlsClientError', (error, socket) =>
        report(error, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`),
      );
    }
    return new Promise((resolve, reject) => {
      server.once('error', (error) => reject(new NetworkError('listen on', formatAddress(address), error)));
      server.listen(address.port, address.host, () => {
        const bound = server.address() as net.AddressInfo;
        resolve({
          address: { host: address.host, port: bound.port },
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
            }),
        });
      });
    });
  }

  connect(address: Address): Promise<ByteStream> {
    const tlsOptions = this.options.tls;
    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const socket =
        tlsOptions === undefined
          ? net.connect({ host: address.host, port: address.port })
          : tls.connect({ ...tlsOptions.client, host: address.host, port: address.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new NetworkError(
            'connect to',
            formatAddress(address),
            new Error(`timed out after ${timeoutMs} ms`),
          ),
        );
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new NetworkError('connect to', formatAddress(address), error));
      });
      socket.once(tlsOptions === undefined ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new SocketStream(socket));
      });
    });
  }
}

/**
 * A loopback port that was free a moment ago (for tests, benchmarks and local clusters), drawn
 * below the ephemeral range where the OS tells it, so no outgoing connection takes it meanwhile.
 */
export async function findFreeLoopbackPort(): Promise<number> {
  const range = listeningPortRange();
  if (range !== undefined) {
    for (let draw = 0; draw < LISTENING_PORT_DRAWS; draw++) {
      const port = range.low + Math.floor(Math.random() * (range.high - range.low));
      if (await canListen(port)) return port;
    }
  }
  return listenOnce(0);
}

/** Random draws below the ephemeral range before falling back to a port the OS picks. */
const LISTENING_PORT_DRAWS = 50;
/** The lowest port handed out for listening; below it sit well-known and registered services. */
const LOWEST_LISTENING_PORT = 15_000;
/** Ports wanted below the ephemeral range for the draws to be worth it. */
const MIN_LISTENING_RANGE_PORTS = 1_000;

/**
 * Ports below the OS's ephemeral range: a port the OS picked (port 0) is in that range, and once
 * released it may be taken at once as the source port of some outgoing connection, so a process
 * started to listen there finds it in use. Undefined where the range is unknown (not Linux).
 */
function listeningPortRange(): { low: number; high: number } | undefined {
  try {
    const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (ephemeralLow === undefined || !Number.isInteger(ephemeralLow)) return undefined;
    if (ephemeralLow - LOWEST_LISTENING_PORT < MIN_LISTENING_RANGE_PORTS) return undefined;
    return { low: LOWEST_LISTENING_PORT, high: ephemeralLow };
  } catch {
    return undefined;
  }
}

async function canListen(port: number): Promise<boolean> {
  try {
    await listenOnce(port);
    return true;
  } catch {
    return false;
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}
