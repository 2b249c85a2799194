import type { X509Certificate } from 'node:crypto';
import type { ByteStream, NodeId } from '../lib/index.js';
import type { Handshake } from './handshake.js';
import { isIssuedBy, nodeIdFromCertificate } from './identity.js';
import type { RefusalReason } from './refusal.js';

export interface PeerExpectations {
  readonly clusterId: string;
  /** The cluster CA when peers must present certificates; undefined for an explicitly insecure transport. */
  readonly authority: X509Certificate | undefined;
  /** On outbound links: the node we meant to reach. */
  readonly expectedNodeId?: NodeId;
}

/** Checks a peer's handshake against its certificate and ours; a reason when it must be refused. */
export function checkPeer(
  handshake: Handshake,
  stream: ByteStream,
  expectations: PeerExpectations,
): RefusalReason | undefined {
  if (handshake.clusterId !== expectations.clusterId) return 'wrong-cluster';
  if (expectations.expectedNodeId !== undefined && handshake.nodeId !== expectations.expectedNodeId) {
    return 'node-id-mismatch';
  }
  if (expectations.authority === undefined) return undefined;
  const certificate = stream.peerCertificate();
  if (certificate === undefined) return 'no-certificate';
  if (!isIssuedBy(certificate, expectations.authority)) return 'wrong-ca';
  if (nodeIdFromCertificate(certificate) !== handshake.nodeId) return 'node-id-mismatch';
  return undefined;
}
