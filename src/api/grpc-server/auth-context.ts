/**
 * What a call knows of its connection's TLS, in grpc-js's `AuthContext` shape (`getAuthContext()`
 * on a call), so handlers read it the same way under either gRPC server. It is read when a
 * handler asks, from the session's socket: the port's TLS socket, or its `RepairedConnection`,
 * which answers for the TLS socket under it.
 */
import type { ServerHttp2Stream } from 'node:http2';
import type { PeerCertificate } from 'node:tls';

/** grpc-js's `AuthContext` (which its package does not export by name). */
export interface AuthContext {
  readonly transportSecurityType?: string;
  readonly sslPeerCertificate?: PeerCertificate;
}

/** What a connection may answer of its TLS; plaintext sockets have neither member. */
interface MaybeTlsSocket {
  readonly authorized?: boolean;
  getPeerCertificate?(): PeerCertificate | Record<string, never>;
}

const PLAINTEXT: AuthContext = Object.freeze({});

/** The connection's TLS as grpc-js states it: empty unless the client's certificate was verified. */
export function authContextOf(stream: ServerHttp2Stream): AuthContext {
  const socket = stream.session?.socket as MaybeTlsSocket | undefined;
  if (socket?.authorized !== true || typeof socket.getPeerCertificate !== 'function') return PLAINTEXT;
  const certificate = socket.getPeerCertificate() as Partial<PeerCertificate>;
  return {
    transportSecurityType: 'ssl',
    ...(certificate.raw === undefined ? {} : { sslPeerCertificate: certificate as PeerCertificate }),
  };
}
