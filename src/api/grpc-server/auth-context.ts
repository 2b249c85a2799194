/**
 * What a call knows of its connection's TLS, in grpc-js's `AuthContext` shape (`getAuthContext()`
 * on a call), so handlers read it the same way under either gRPC server. It is read when a
 * handler asks, from the connection the server was handed (`injectConnection`, kept on the
 * session): the port's TLS socket, or its `RepairedConnection`, which answers for the TLS socket
 * under it. Node wraps a connection that is not a socket, so the session's own `socket` would not
 * reach it.
 */

import type { PeerCertificate } from 'node:tls';
import type { CallStream } from './call-stream.js';

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

/** Where the server keeps, on each session, the connection it was handed. */
export const INJECTED_CONNECTION = Symbol('injected connection');

/** A session as the server marks it. */
export type MarkedSession = { [INJECTED_CONNECTION]?: object };

/** The connection's TLS as grpc-js states it: empty unless the client's certificate was verified. */
export function authContextOf(stream: CallStream): AuthContext {
  const session = stream.session as (typeof stream.session & MarkedSession) | undefined;
  const socket = session?.[INJECTED_CONNECTION] as MaybeTlsSocket | undefined;
  if (socket?.authorized !== true || typeof socket.getPeerCertificate !== 'function') return PLAINTEXT;
  const certificate = socket.getPeerCertificate() as Partial<PeerCertificate>;
  return {
    transportSecurityType: 'ssl',
    ...(certificate.raw === undefined ? {} : { sslPeerCertificate: certificate as PeerCertificate }),
  };
}
