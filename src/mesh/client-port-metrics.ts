/**
 * The client port's metrics (`meshos_client_tls_refused_connections`), registered once: read at
 * scrape time from the counters the node keeps across restarts of its port.
 */
import { Gauge, type Registry } from 'prom-client';
import { CLIENT_TLS_REFUSAL_REASONS, type ClientTlsRefusals } from '../api/index.js';

export function registerClientPortMetrics(
  registry: Registry,
  refusals: () => ClientTlsRefusals | undefined,
): void {
  new Gauge({
    name: 'meshos_client_tls_refused_connections',
    help: 'client port connections refused at the TLS handshake, by reason (handshake: a failed handshake such as a plaintext client; no_certificate and untrusted_certificate under --client-cert-auth)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const counted = refusals();
      for (const reason of CLIENT_TLS_REFUSAL_REASONS) this.set({ reason }, counted?.[reason] ?? 0);
    },
  });
}
