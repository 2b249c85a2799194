import type { PeerCertificate } from 'node:tls';
import {
  type Address,
  type ByteStream,
  formatAddress,
  type Listener,
  type Network,
  NetworkError,
  type Random,
} from '../lib/index.js';

/** Bytes written but not yet delivered above which `write` reports a full buffer. */
export const MEMORY_STREAM_HIGH_WATER_BYTES = 1024 * 1024;
/** Ports handed out for listeners asking for port 0. */
const FIRST_EPHEMERAL_PORT = 40_000;

export interface InMemoryNetworkOptions {
  /** When given, every write is cut into randomly sized pieces, as TCP may deliver it. */
  readonly chunking?: Random;
}

/** One direction's end of a connected pair. */
class MemoryStream implements ByteStream {
  private readonly dataHandlers: Array<(bytes: Uint8Array) => void> = [];
  private readonly closeHandlers: Array<(error?: Error) => void> = [];
  private readonly drainHandlers: Array<() => void> = [];
  /** Chunks that arrived before anyone listened, delivered on the first `onData`. */
  private early: Uint8Array[] = [];
  private closed = false;
  private closeDelivered = false;
  private inFlightBytes = 0;
  private full = false;
  other: MemoryStream | undefined;

  constructor(
    readonly remote: string,
    private readonly chunking: Random | undefined,
  ) {}

  write(bytes: Uint8Array): boolean {
    const other = this.other;
    if (this.closed || other === undefined || other.closed) return false;
    // Copy: the caller may reuse its buffer, as it may with a socket.
    const copy = bytes.slice();
    this.inFlightBytes += copy.length;
    for (const piece of this.cut(copy)) {
      queueMicrotask(() => {
        this.inFlightBytes -= piece.length;
        other.receive(piece);
        if (this.full && this.inFlightBytes <= MEMORY_STREAM_HIGH_WATER_BYTES / 2) {
          this.full = false;
          for (const handler of this.drainHandlers) handler();
        }
      });
    }
    if (this.inFlightBytes > MEMORY_STREAM_HIGH_WATER_BYTES) this.full = true;
    return !this.full;
  }

  onData(handler: (bytes: Uint8Array) => void): void {
    this.dataHandlers.push(handler);
    if (this.early.length > 0) {
      const early = this.early;
      this.early = [];
      for (const chunk of early) handler(chunk);
    }
  }

  onClose(handler: (error?: Error) => void): void {
    if (this.closeDelivered) handler();
    else this.closeHandlers.push(handler);
  }

  onDrain(handler: () => void): void {
    this.drainHandlers.push(handler);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Bytes already written arrive first, as with a graceful TCP close; then both ends see it.
    queueMicrotask(() => {
      this.deliverClose();
      this.other?.shutDown();
    });
  }

  peerCertificate(): PeerCertificate | undefined {
    return undefined;
  }

  private shutDown(): void {
    this.closed = true;
    this.deliverClose();
  }

  private receive(piece: Uint8Array): void {
    if (this.closeDelivered) return;
    if (this.dataHandlers.length === 0) this.early.push(piece);
    else for (const handler of this.dataHandlers) handler(piece);
  }

  private deliverClose(): void {
    if (this.closeDelivered) return;
    this.closeDelivered = true;
    const handlers = this.closeHandlers.splice(0);
    for (const handler of handlers) handler();
  }

  private cut(bytes: Uint8Array): Uint8Array[] {
    if (this.chunking === undefined || bytes.length <= 1) return [bytes];
    const pieces: Uint8Array[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      const size = this.chunking.nextIntBetween(1, Math.max(1, Math.min(bytes.length - offset, 64)));
      pieces.push(bytes.subarray(offset, offset + size));
      offset += size;
    }
    return pieces;
  }
}

/**
 * A network inside one process, with byte-stream semantics: writes arrive in order, later
 * (never inside `write`), possibly cut into pieces; closing delivers what was written, then
 * closes both ends. For tests and the simulator.
 */
export class InMemoryNetwork implements Network {
  private readonly listeners = new Map<string, (stream: ByteStream) => void>();
  private readonly open = new Set<MemoryStream>();
  private nextPort = FIRST_EPHEMERAL_PORT;
  private nextClientPort = 1;

  constructor(private readonly options: InMemoryNetworkOptions = {}) {}

  listen(address: Address, onConnection: (stream: ByteStream) => void): Promise<Listener> {
    const bound: Address = address.port === 0 ? { host: address.host, port: this.nextPort++ } : address;
    const key = formatAddress(bound);
    if (this.listeners.has(key)) {
      return Promise.reject(new NetworkError('listen on', key, new Error('address in use')));
    }
    this.listeners.set(key, onConnection);
    return Promise.resolve({
      address: bound,
      close: async () => {
        if (this.listeners.get(key) === onConnection) this.listeners.delete(key);
      },
    });
  }

  connect(address: Address): Promise<ByteStream> {
    const key = formatAddress(address);
    const onConnection = this.listeners.get(key);
    if (onConnection === undefined) {
      return Promise.reject(new NetworkError('connect to', key, new Error('connection refused')));
    }
    const client = new MemoryStream(key, this.options.chunking);
    const server = new MemoryStream(`memory-client:${this.nextClientPort++}`, this.options.chunking);
    client.other = server;
    server.other = client;
    for (const stream of [client, server]) {
      this.open.add(stream);
      stream.onClose(() => this.open.delete(stream));
    }
    queueMicrotask(() => onConnection(server));
    return Promise.resolve(client);
  }

  /** Streams not yet closed, both ends counted. */
  openStreamCount(): number {
    return this.open.size;
  }

  /** Closes every open connection, as a network blip would; listeners stay. */
  breakAllConnections(): void {
    for (const stream of [...this.open]) stream.close();
  }
}
