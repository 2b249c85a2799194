/** What a client is configured with, and the check that reports every problem at once. */
import type * as grpc from '@grpc/grpc-js';
import type { Random } from '../lib/index.js';
import { normalizeEndpoint } from './endpoint.js';
import { MAX_ATTEMPTS_LIMIT, MAX_CLIENT_ID_LENGTH, MAX_ENDPOINTS } from './limits.js';

/**
 * TLS to the endpoints (nodes or an etcd cluster serving https); without it, and without an
 * `https://` endpoint, the client speaks plaintext.
 */
export interface ClientTlsOptions {
  /** PEM of the CA that signed the endpoints' certificates; the system's trusted CAs when unset. */
  readonly caCertificatePem?: string;
  /** This client's certificate and key (PEM), for endpoints that require client certificates. */
  readonly certificatePem?: string;
  readonly privateKeyPem?: string;
}

export interface MeshClientOptions {
  /** host:port (or http://host:port) of one or more nodes' client ports. */
  readonly endpoints: readonly string[];
  /** Budget of each call, retries included; default 5 s. */
  readonly timeoutMs?: number;
  /** Identity for exactly-once writes; random per client when unset. */
  readonly clientId?: string;
  /** Attempts per call, the first included; default 5. */
  readonly maxAttempts?: number;
  /** Ask the endpoints who leads before the first call; default true. */
  readonly discoverLeader?: boolean;
  /** Jitter source for backoff and the random client id. */
  readonly random?: Random;
  /** Extra gRPC client interceptors (tracing, tests). */
  readonly interceptors?: readonly grpc.Interceptor[];
  /**
   * TLS (and mutual TLS with a client certificate) to every endpoint; an `https://` endpoint turns
   * TLS on with the system's trusted CAs when this is unset.
   */
  readonly tls?: ClientTlsOptions;
  /**
   * A user and password for a cluster with auth on: the client authenticates when it connects,
   * sends the token with every call and authenticates again before the token expires or when a
   * call is refused for it. Ignored (no token sent) while the cluster's auth is off.
   */
  readonly credentials?: { readonly user: string; readonly password: string };
}

/** The TLS the client speaks: as given, or the defaults when an endpoint is `https://`; none for plaintext. */
export function effectiveTls(options: MeshClientOptions): ClientTlsOptions | undefined {
  if (options.tls !== undefined) return options.tls;
  return options.endpoints.some((endpoint) => /^\s*https:\/\//i.test(endpoint)) ? {} : undefined;
}

/** Every problem with the options, not just the first. */
export function validateClientOptions(options: MeshClientOptions): string[] {
  const problems: string[] = [];
  if (options.endpoints.length === 0) problems.push('endpoints: at least one is needed');
  if (options.endpoints.length > MAX_ENDPOINTS) problems.push(`endpoints: at most ${MAX_ENDPOINTS}`);
  for (const endpoint of options.endpoints) {
    if (!/^[^\s/]+:\d{1,5}$/.test(normalizeEndpoint(endpoint))) {
      problems.push(`endpoints: '${endpoint}' is not host:port`);
    }
  }
  if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    problems.push('timeoutMs: must be a positive number');
  }
  if (
    options.maxAttempts !== undefined &&
    !(
      Number.isInteger(options.maxAttempts) &&
      options.maxAttempts >= 1 &&
      options.maxAttempts <= MAX_ATTEMPTS_LIMIT
    )
  ) {
    problems.push(`maxAttempts: must be an integer from 1 to ${MAX_ATTEMPTS_LIMIT}`);
  }
  if (
    options.clientId !== undefined &&
    !(options.clientId.length <= MAX_CLIENT_ID_LENGTH && /^[\x21-\x7e]+$/.test(options.clientId))
  ) {
    problems.push(`clientId: 1 to ${MAX_CLIENT_ID_LENGTH} printable ASCII characters without spaces`);
  }
  if (options.tls !== undefined) problems.push(...tlsProblems(options.tls));
  if (
    options.credentials !== undefined &&
    (typeof options.credentials.user !== 'string' || options.credentials.user.length === 0)
  ) {
    problems.push('credentials.user: must be a non-empty user name');
  }
  return problems;
}

function tlsProblems(tls: ClientTlsOptions): string[] {
  const problems: string[] = [];
  if (
    tls.caCertificatePem !== undefined &&
    (typeof tls.caCertificatePem !== 'string' || !tls.caCertificatePem.includes('BEGIN CERTIFICATE'))
  ) {
    problems.push('tls.caCertificatePem: must be a PEM certificate');
  }
  if ((tls.certificatePem === undefined) !== (tls.privateKeyPem === undefined)) {
    problems.push('tls: certificatePem and privateKeyPem go together');
  }
  return problems;
}
