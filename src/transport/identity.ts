import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { type NodeId, nodeIdFromText } from '../lib/index.js';

/** The URI form of a node's identity, carried as a subjectAltName in its certificate. */
export function nodeUri(nodeId: NodeId): string {
  return `meshos://node/${nodeId}`;
}

/** The common name of a node's certificate. */
export function nodeCommonName(nodeId: NodeId): string {
  return `meshos-node-${nodeId}`;
}

const URI_PATTERN = /^meshos:\/\/node\/(\d+)$/;
const COMMON_NAME_PATTERN = /^meshos-node-(\d+)$/;

function parseId(text: string | undefined): NodeId | undefined {
  return text === undefined ? undefined : nodeIdFromText(text);
}

/**
 * The node id a certificate is bound to, from its `URI:meshos://node/<id>` subjectAltName
 * and its `meshos-node-<id>` common name. Undefined when it names none, or names more than one.
 */
export function nodeIdFromCertificate(certificate: PeerCertificate): NodeId | undefined {
  const found = new Set<NodeId>();
  for (const entry of (certificate.subjectaltname ?? '').split(',')) {
    const trimmed = entry.trim();
    if (!trimmed.startsWith('URI:')) continue;
    const id = parseId(URI_PATTERN.exec(trimmed.slice('URI:'.length))?.[1]);
    if (id !== undefined) found.add(id);
  }
  const commonName = certificate.subject?.CN;
  const id = parseId(typeof commonName === 'string' ? COMMON_NAME_PATTERN.exec(commonName)?.[1] : undefined);
  if (id !== undefined) found.add(id);
  return found.size === 1 ? [...found][0] : undefined;
}

/**
 * Whether the certificate was signed by the cluster CA. The TLS layer already checks this
 * when configured with `rejectUnauthorized`; the transport checks again so a network set up
 * without it still cannot admit a stranger.
 */
export function isIssuedBy(certificate: PeerCertificate, authority: X509Certificate): boolean {
  if (!(certificate.raw instanceof Uint8Array) || certificate.raw.length === 0) return false;
  try {
    const parsed = new X509Certificate(certificate.raw);
    return parsed.checkIssued(authority) && parsed.verify(authority.publicKey);
  } catch {
    return false;
  }
}
