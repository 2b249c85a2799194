/**
 * Who a call's client certificate names, for handlers: under client certificate auth
 * (`--client-cert-auth`) the port served the call only after the certificate was verified against
 * the trusted CA, and its subject's common name is the user etcd's auth takes it for. Works on
 * the calls of either gRPC server (MeshOS's own answers `getAuthContext()` as grpc-js does).
 */
import type { AuthContext } from './grpc-server/index.js';

/** What the accessor needs of a call: grpc-js's `ServerUnaryCall`, `ServerDuplexStream`, ... have it. */
export interface CallWithAuthContext {
  getAuthContext(): AuthContext;
}

/**
 * The common name (subject CN) of the verified client certificate the call's connection presented;
 * undefined on plaintext, without a client certificate, or when the certificate names no CN.
 * A subject with several CNs answers the first, as Go's `Subject.CommonName` (etcd) does.
 */
export function clientCertificateCommonName(call: CallWithAuthContext): string | undefined {
  const context = call.getAuthContext();
  if (context.transportSecurityType !== 'ssl') return undefined;
  const commonName: unknown = context.sslPeerCertificate?.subject?.CN;
  const first = Array.isArray(commonName) ? commonName[0] : commonName;
  return typeof first === 'string' && first.length > 0 ? first : undefined;
}
