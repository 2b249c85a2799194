import type { ChildStatus, LifecyclePhase, Supervisor } from '../supervisor/index.js';
import type { NodeService, ServicePolicy } from './node-service.js';

/** A service's phase as `/status` and `meshos status` show it. */
export type ServicePhase = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';

export interface ServiceStatus {
  readonly name: string;
  readonly role: string;
  readonly phase: ServicePhase;
  readonly policy: ServicePolicy;
  readonly dependsOn: readonly string[];
  /** Restarts since the node started. */
  readonly restarts: number;
  /** Why it last crashed or failed to start, if it did. */
  readonly lastExitReason?: string;
}

/** The node's supervision tree: its own phase, then each service in start order. */
export interface ServiceTreeStatus {
  readonly phase: ServicePhase;
  readonly services: readonly ServiceStatus[];
}

const SERVICE_PHASE_OF_CHILD: Readonly<Record<ChildStatus, ServicePhase>> = {
  idle: 'stopped',
  starting: 'starting',
  running: 'running',
  restarting: 'restarting',
  stopping: 'stopping',
  stopped: 'stopped',
  disabled: 'failed',
};

const SERVICE_PHASE_OF_SUPERVISOR: Readonly<Record<LifecyclePhase, ServicePhase>> = {
  Constructed: 'starting',
  Compiled: 'starting',
  Starting: 'starting',
  Running: 'running',
  Draining: 'stopping',
  Stopped: 'stopped',
  Failed: 'failed',
};

export function serviceTreeStatus(
  supervisor: Supervisor,
  services: readonly NodeService[],
): ServiceTreeStatus {
  const byName = new Map(services.map((service) => [service.name, service]));
  return {
    phase: SERVICE_PHASE_OF_SUPERVISOR[supervisor.phase()],
    services: supervisor.children().map((child) => {
      const service = byName.get(child.name);
      return {
        name: child.name,
        role: service?.role ?? child.name,
        phase: SERVICE_PHASE_OF_CHILD[child.status],
        policy: service?.policy ?? 'critical',
        dependsOn: service?.dependsOn ?? [],
        restarts: child.restarts,
        ...(child.lastExitReason === undefined ? {} : { lastExitReason: child.lastExitReason }),
      };
    }),
  };
}
