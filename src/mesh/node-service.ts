/**
 * One service of a node as a supervised child: `open` brings it up, the returned handle closes
 * it. The adapter turns that into a supervisor lifetime: ready once open, closed when the
 * supervisor stops it, and a crash (closed first, then reported) when the service fails on its
 * own or a test injects a fault.
 */
import type { ChildSpec, ChildStart, RestartPolicyInput } from '../supervisor/index.js';
import type { ServiceFaults } from './service-faults.js';

/** A service while it runs. */
export interface RunningService {
  close(): Promise<void>;
  /** Registers what to call if the service fails by itself (not when closed). */
  onFailure?(listener: (error: unknown) => void): void;
}

/**
 * `critical`: the node cannot go on without it in this process; its crash stops the node.
 * `restartable`: restarted in place with backoff; too many crashes in a window stop the node.
 */
export type ServicePolicy = 'critical' | 'restartable';

export interface NodeService {
  readonly name: string;
  /** What it does, for people (shown by `/status`). */
  readonly role: string;
  readonly dependsOn?: readonly string[];
  readonly policy: ServicePolicy;
  readonly startTimeoutMs?: number;
  readonly shutdownTimeoutMs?: number;
  /** Brings the service up; rejects (with a typed error) when it cannot. */
  open(): Promise<RunningService>;
}

/** A restartable service may crash this many times in `RESTARTABLE_SERVICE_PERIOD_MS`. */
export const RESTARTABLE_SERVICE_MAX_RESTARTS = 5;
export const RESTARTABLE_SERVICE_PERIOD_MS = 60_000;
export const RESTARTABLE_SERVICE_BACKOFF_INITIAL_MS = 100;
export const RESTARTABLE_SERVICE_BACKOFF_MAX_MS = 5_000;

export const SERVICE_RESTART_POLICIES: Readonly<Record<ServicePolicy, RestartPolicyInput>> = {
  // No restart in place: the first crash spends the budget and escalates.
  critical: { type: 'permanent', maxRestarts: 0, onExhausted: 'critical' },
  restartable: {
    type: 'permanent',
    maxRestarts: RESTARTABLE_SERVICE_MAX_RESTARTS,
    periodMs: RESTARTABLE_SERVICE_PERIOD_MS,
    backoff: {
      initialMs: RESTARTABLE_SERVICE_BACKOFF_INITIAL_MS,
      maxMs: RESTARTABLE_SERVICE_BACKOFF_MAX_MS,
      multiplier: 2,
      jitterRatio: 0.2,
    },
    onExhausted: 'critical',
  },
};

/** The supervisor child that runs `service`; `faults` (tests only) can crash it. */
export function serviceChild(service: NodeService, faults: ServiceFaults | undefined): ChildSpec {
  return {
    name: service.name,
    role: service.role,
    start: serviceLifetime(service, faults),
    dependsOn: service.dependsOn ?? [],
    restart: SERVICE_RESTART_POLICIES[service.policy],
    ...(service.startTimeoutMs === undefined ? {} : { startTimeoutMs: service.startTimeoutMs }),
    ...(service.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: service.shutdownTimeoutMs }),
  };
}

function serviceLifetime(service: NodeService, faults: ServiceFaults | undefined): ChildStart {
  return async (signal, context) => {
    const running = await service.open();
    if (signal.aborted) {
      // Stopped (a start timeout, a failed sibling) while it was opening.
      await running.close();
      return;
    }
    let disarm = (): void => {};
    const failed = new Promise<never>((_, reject) => {
      running.onFailure?.(reject);
      if (faults !== undefined) disarm = faults.arm(service.name, reject);
    });
    const stopped = new Promise<void>((resolve) =>
      signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    context.ready();
    try {
      await Promise.race([stopped, failed]);
    } catch (error) {
      // Release what it holds (ports, files) before the supervisor restarts it or gives up.
      await running.close().catch(() => {});
      throw error;
    } finally {
      disarm();
    }
    await running.close();
  };
}
