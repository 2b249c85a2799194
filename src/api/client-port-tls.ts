/**
 * TLS on the client port, modelled on etcd's `--cert-file`, `--key-file`, `--trusted-ca-file` and
 * `--client-cert-auth`. The port ends TLS itself, in front of its usual handover (`client-port.ts`),
 * so either gRPC server gets the decrypted connection as it would a plain socket. With client
 * certificates required, a connection without a certificate that chains to the trusted CA is
 * refused as soon as its handshake ends (before any HTTP/2 byte), counted by reason and logged.
 */
import * as tls from 'node:tls';
import { MeshError } from '../lib/index.js';

/** PEM material of the client port's TLS, as the node read it from its files. */
export interface ClientPortTls {
  /** The port's certificate chain (a node certificate from `meshos certs issue` serves). */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** CA that client certificates must chain to (etcd's `--trusted-ca-file`). */
  readonly trustedCaPem?: string;
  /** Refuse clients without a certificate signed by `trustedCaPem` (etcd's `--client-cert-auth`). */
  readonly clientCertificateAuth: boolean;
}

/** Why the port refused a connection at its TLS handshake, as `/metrics` labels it. */
export const CLIENT_TLS_REFUSAL_REASONS = [
  /** The handshake failed: a plaintext client, a client that does not trust the port, a bad hello. */
  'handshake',
  /** Client certificates are required and the client sent none. */
  'no_certificate',
  /** The client's certificate does not chain to the trusted CA (or is expired, or not for clients). */
  'untrusted_certificate',
] as const;
export type ClientTlsRefusalReason = (typeof CLIENT_TLS_REFUSAL_REASONS)[number];

/** Refusals by reason since the node started (kept across restarts of the port). */
export type ClientTlsRefusals = Record<ClientTlsRefusalReason, number>;

export function newClientTlsRefusals(): ClientTlsRefusals {
  return { handshake: 0, no_certificate: 0, untrusted_certificate: 0 };
}

/** A TLS handshake gets this long before the connection is dropped (and counted as a refusal). */
export const CLIENT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The client port's TLS settings or files are unusable; the message names what and which file. */
export class ClientTlsError extends MeshError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('CLIENT_TLS', message, options);
  }
}

/**
 * Client certificate auth checks certificates against a trusted CA, so it cannot go without one:
 * the rule for the node's settings (its files) and for the PEM the port is given alike.
 */
export function clientCertificateAuthProblem(
  clientCertificateAuth: boolean,
  trustedCaGiven: boolean,
): string | undefined {
  return clientCertificateAuth && !trustedCaGiven
    ? 'client certificate auth needs a trusted CA to check client certificates against'
    : undefined;
}

/** Every problem with the settings at once (empty when none). */
export function clientPortTlsProblems(settings: ClientPortTls): string[] {
  const problems: string[] = [];
  if (!settings.certificatePem.includes('BEGIN CERTIFICATE'))
    problems.push('the certificate is not a PEM certificate');
  if (!/BEGIN [A-Z ]*PRIVATE KEY/.test(settings.privateKeyPem))
    problems.push('the key is not a PEM private key');
  const authProblem = clientCertificateAuthProblem(
    settings.clientCertificateAuth,
    settings.trustedCaPem !== undefined,
  );
  if (authProblem !== undefined) problems.push(authProblem);
  if (settings.trustedCaPem !== undefined && !settings.trustedCaPem.includes('BEGIN CERTIFICATE'))
    problems.push('the trusted CA is not a PEM certificate');
  return problems;
}

/**
 * The options of the port's `tls.Server`. The server asks for a client certificate only under
 * client certificate auth and never rejects by itself: the port checks `authorized` after the
 * handshake, so every refusal is seen, counted and logged in one place (`refusalOf`).
 */
export function clientPortServerOptions(settings: ClientPortTls): tls.TlsOptions {
  const problems = clientPortTlsProblems(settings);
  if (problems.length > 0)
    throw new ClientTlsError(`client port TLS: ${problems.join('; ')}`, { details: { problems } });
  const options: tls.TlsOptions = {
    cert: settings.certificatePem,
    key: settings.privateKeyPem,
    ...(settings.trustedCaPem === undefined ? {} : { ca: settings.trustedCaPem }),
    requestCert: settings.clientCertificateAuth,
    rejectUnauthorized: false,
    ALPNProtocols: ['h2'],
    handshakeTimeout: CLIENT_TLS_HANDSHAKE_TIMEOUT_MS,
  };
  try {
    tls.createSecureContext(options);
  } catch (error) {
    throw new ClientTlsError(
      `client port TLS: the certificate, key or CA do not load: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return options;
}

/** Why a connection whose handshake ended must be refused; undefined when it may be served. */
export function refusalOf(
  socket: tls.TLSSocket,
  settings: ClientPortTls,
): ClientTlsRefusalReason | undefined {
  if (!settings.clientCertificateAuth || socket.authorized) return undefined;
  const certificate = socket.getPeerCertificate() as Partial<tls.PeerCertificate>;
  return certificate.raw === undefined ? 'no_certificate' : 'untrusted_certificate';
}
