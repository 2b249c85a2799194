/** `meshos_auth_refusals`, read at scrape time from the refusals a node counts (voter or worker). */
import { Gauge, type Registry } from 'prom-client';
import type { AuthRefusals } from '../auth/index.js';

export function registerAuthRefusalMetrics(
  registry: Registry,
  refusals: () => AuthRefusals | undefined,
): void {
  new Gauge({
    name: 'meshos_auth_refusals',
    help: 'client requests this node refused for authentication or permission, by error code (AUTH_FAILED: wrong user or password; AUTH_INVALID_TOKEN; AUTH_USER_EMPTY: no token with auth on; AUTH_PERMISSION_DENIED)',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      for (const [code, count] of refusals()?.byCode() ?? []) this.set({ code }, count);
    },
  });
}
