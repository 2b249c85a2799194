/**
 * Who a call acts as, for the services on the client port: nobody in particular while auth is
 * off; with auth on, the user its `token` metadata names (etcd's clients send it there), else
 * the common name of its verified client certificate. Every refusal is counted and logged
 * through the backend's `authRefusals`.
 */
import { AuthError, PermissionDeniedError, type RequestCredentials, requestUser } from '../auth/index.js';
import { type CallWithAuthContext, clientCertificateCommonName } from './client-certificate.js';
import type { RequestMetadata } from './grpc-server/index.js';
import type { KvBackend, RequestOptions } from './kv-backend.js';

/** The metadata key etcd's clients put their token in. */
export const TOKEN_METADATA = 'token';

/**
 * What a call presents: its token, and its client certificate's common name when verified
 * (read through the metadata of MeshOS's gRPC server; grpc-js's metadata cannot tell it).
 */
export function credentialsOf(metadata: RequestMetadata | undefined): RequestCredentials {
  const [token] = metadata?.get(TOKEN_METADATA) ?? [];
  const certificateCommonName =
    metadata?.getAuthContext === undefined
      ? undefined
      : clientCertificateCommonName(metadata as CallWithAuthContext);
  return {
    ...(typeof token === 'string' ? { token } : {}),
    ...(certificateCommonName === undefined ? {} : { certificateCommonName }),
  };
}

/** The user a call acts as with auth on; undefined with auth off. A bad or missing identity rejects. */
export function callerOf(
  backend: Pick<KvBackend, 'auth' | 'authRefusals'>,
  metadata: RequestMetadata | undefined,
  what: string,
): string | undefined {
  if (!backend.auth.enabled) return undefined;
  try {
    return requestUser(backend.auth, credentialsOf(metadata), Date.now());
  } catch (error) {
    if (error instanceof AuthError) backend.authRefusals.record(error, what);
    throw error;
  }
}

/** `options` with the caller set, for the backend to check (unchanged with auth off). */
export function asCaller(
  backend: KvBackend,
  metadata: RequestMetadata | undefined,
  options: RequestOptions,
  what: string,
): RequestOptions {
  const user = callerOf(backend, metadata, what);
  return user === undefined ? options : { ...options, user };
}

/**
 * Refuses a call unless auth is off or its caller holds the root role (etcd's admin-only
 * calls); `allowed` lets a caller through for calls about itself (its own user, its roles).
 */
export function requireRoot(
  backend: Pick<KvBackend, 'auth' | 'authRefusals'>,
  metadata: RequestMetadata | undefined,
  what: string,
  allowed: (user: string) => boolean = () => false,
): void {
  const user = callerOf(backend, metadata, what);
  if (user === undefined || backend.auth.isRoot(user) || allowed(user)) return;
  const refusal = new PermissionDeniedError(user, what);
  backend.authRefusals.record(refusal, what);
  throw refusal;
}
