import { encodeFrame, FrameType } from './frame.js';

/** Why a peer connection was refused by this node. Stable strings: they label counters and logs. */
export const REFUSAL_REASONS = [
  'wrong-cluster',
  'node-id-mismatch',
  'no-certificate',
  'wrong-ca',
  'bad-handshake',
  'handshake-timeout',
  'too-many-connections',
  'removed-member',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Why a peer refused this node, as far as its TLS alert or refusal frame tells. */
export const REFUSED_BY_PEER_REASONS = [
  'no-certificate',
  'wrong-ca',
  'closed-during-handshake',
  'removed-member',
] as const;
export type RefusedByPeerReason = (typeof REFUSED_BY_PEER_REASONS)[number];

export function zeroCounts<Key extends string>(keys: readonly Key[]): Record<Key, number> {
  const counts = {} as Record<Key, number>;
  for (const key of keys) counts[key] = 0;
  return counts;
}

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = current.cause;
  }
  return codes;
}

const SERVER_NOT_FROM_OUR_CA = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** A dial failed: did this node refuse the server's certificate (it is not from the cluster CA)? */
export function isServerCertificateRejected(error: unknown): boolean {
  return errorCodes(error).some((code) => SERVER_NOT_FROM_OUR_CA.has(code));
}

/** A dial failed or closed: did the server refuse this node's certificate, and why? */
export function refusedByPeerReason(error: unknown): RefusedByPeerReason | undefined {
  for (const code of errorCodes(error)) {
    if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') return 'no-certificate';
    if (
      code === 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' ||
      code === 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' ||
      code === 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR'
    ) {
      return 'wrong-ca';
    }
  }
  return undefined;
}

/** The reasons an acceptor states in a refusal frame: the dialer acts on them. */
export type StatedRefusalReason = 'removed-member';

/** A refusal frame: the reason as text, so a dialer of another version still logs it. */
export function encodeRefusal(reason: StatedRefusalReason): Uint8Array {
  return encodeFrame({ type: FrameType.refusal, flags: 0, payload: new TextEncoder().encode(reason) });
}

/** The reason a refusal frame states; undefined for one this version does not know. */
export function decodeRefusal(payload: Uint8Array): StatedRefusalReason | undefined {
  const text = new TextDecoder().decode(payload);
  return text === 'removed-member' ? text : undefined;
}
