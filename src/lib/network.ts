import type { PeerCertificate } from 'node:tls';
import { MeshError } from './errors.js';

export interface Address {
  readonly host: string;
  readonly port: number;
}

export function formatAddress(address: Address): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export function parseAddress(text: string): Address {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new MeshError('BAD_ADDRESS', `not a host:port address: ${JSON.stringify(text)}`);
  }
  return { host, port };
}

/** A bidirectional byte stream: what a transport frames messages over. */
export interface ByteStream {
  readonly remote: string;
  /** Queues bytes; returns false when the stream's buffer is over its high-water mark. */
  write(bytes: Uint8Array): boolean;
  /**
   * Each chunk is handed over for good: the stream never writes to it again, so a receiver may
   * keep views of it (the peer transport's frames are views of the chunks they arrived in).
   */
  onData(handler: (bytes: Uint8Array) => void): void;
  /** Called once, when the stream is closed by either side; `error` when it failed. */
  onClose(handler: (error?: Error) => void): void;
  /** Called when a full buffer has drained. */
  onDrain(handler: () => void): void;
  close(): void;
  /** The peer's certificate fields, when the stream is TLS. */
  peerCertificate(): PeerCertificate | undefined;
}

export interface Listener {
  readonly address: Address;
  close(): Promise<void>;
}

export interface Network {
  listen(address: Address, onConnection: (stream: ByteStream) => void): Promise<Listener>;
  connect(address: Address): Promise<ByteStream>;
}

export class NetworkError extends MeshError {
  constructor(operation: string, address: string, cause?: unknown) {
    super('NETWORK', `${operation} ${address} failed${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      cause,
      details: { operation, address },
    });
  }
}
