import { Gauge, type Registry } from 'prom-client';
import type { ServiceTreeStatus } from './service-status.js';

/**
 * Each service of the node's tree on `/metrics`: whether it runs and how often it was restarted
 * (one series per service: a fixed, short list).
 */
export function registerServiceMetrics(registry: Registry, read: () => ServiceTreeStatus): void {
  new Gauge({
    name: 'meshos_service_running',
    help: 'whether the node service runs (1) or not (0: starting, restarting, stopping, stopped, failed)',
    labelNames: ['service'],
    registers: [registry],
    collect() {
      for (const service of read().services)
        this.set({ service: service.name }, service.phase === 'running' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'meshos_service_restarts',
    help: 'restarts of the node service since the node started',
    labelNames: ['service'],
    registers: [registry],
    collect() {
      for (const service of read().services) this.set({ service: service.name }, service.restarts);
    },
  });
}
