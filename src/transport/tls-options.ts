import type { NodeNetworkOptions } from '../lib/node/index.js';
import type { TlsMaterial } from './certs.js';

/**
 * Mutual TLS 1.3 against the cluster CA, both directions. The peer's identity is its node id
 * bound into the certificate (checked by the transport after the handshake frame), not a host
 * name, so the client skips host-name matching: any CA-signed node may listen at any address.
 */
export function mutualTlsOptions(material: TlsMaterial): NonNullable<NodeNetworkOptions['tls']> {
  const common = {
    ca: material.caCertificatePem,
    cert: material.certificatePem,
    key: material.privateKeyPem,
    minVersion: 'TLSv1.3' as const,
  };
  return {
    server: { ...common, requestCert: true, rejectUnauthorized: true },
    client: { ...common, rejectUnauthorized: true, checkServerIdentity: () => undefined },
  };
}
