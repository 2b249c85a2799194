import {
  type Address,
  type Clock,
  type Logger,
  type NodeId,
  type Random,
  SystemClock,
  systemRandom,
  ValidationError,
} from '../lib/index.js';
import { NodeNetwork } from '../lib/node/index.js';
import type { TlsMaterial } from './certs.js';
import { PeerTransport, type PeerTransportOptions } from './peer-transport.js';
import { mutualTlsOptions } from './tls-options.js';

export interface TcpTransportOptions
  extends Omit<PeerTransportOptions, 'network' | 'security' | 'clock' | 'random'> {
  readonly nodeId: NodeId;
  readonly listenAddress: Address;
  /** Mutual TLS material; required unless `insecure` is true. */
  readonly tls?: TlsMaterial;
  /** Plaintext TCP with no peer authentication. Only for tests and benchmarks on loopback. */
  readonly insecure?: boolean;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
}

/** A PeerTransport over real TCP: mutual TLS 1.3 by default, plaintext only when asked for by name. */
export function createTcpTransport(options: TcpTransportOptions): PeerTransport {
  const { tls, insecure, ...rest } = options;
  const problems: string[] = [];
  if (tls === undefined && insecure !== true)
    problems.push('give tls material, or insecure: true for plaintext');
  if (tls !== undefined && insecure === true) problems.push('tls and insecure: true exclude each other');
  if (tls !== undefined && tls.nodeId !== options.nodeId) {
    problems.push(`tls material is for node ${tls.nodeId}, this is node ${options.nodeId}`);
  }
  if (problems.length > 0) throw new ValidationError('tcp transport options', problems);
  // The network reports TLS-level refusals to the transport it carries, which counts them.
  let transport: PeerTransport | undefined;
  const network = new NodeNetwork(
    tls === undefined
      ? {}
      : {
          tls: mutualTlsOptions(tls),
          onTlsClientError: (error, remote) => transport?.recordTlsRefusal(error, remote),
        },
  );
  transport = new PeerTransport({
    ...rest,
    clock: options.clock ?? new SystemClock(),
    random: options.random ?? systemRandom(),
    network,
    security:
      tls === undefined
        ? { kind: 'insecure' }
        : { kind: 'mutual-tls', caCertificatePem: tls.caCertificatePem },
  });
  return transport;
}
