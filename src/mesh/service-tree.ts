/**
 * A node's services run as one supervision tree (`src/supervisor`), for voters and workers
 * alike: started in dependency order, restarted by policy, stopped in reverse; a critical
 * failure is kept and told to the node.
 */
import { type Clock, isMeshError, MeshError, type Random } from '../lib/index.js';
import { BootFailedError, ChildStartError, type EscalationError, Supervisor } from '../supervisor/index.js';
import { type NodeService, serviceChild } from './node-service.js';
import type { ServiceFaults } from './service-faults.js';
import { type ServiceTreeStatus, serviceTreeStatus } from './service-status.js';

/** A node could not bring a service up (and stopped the ones that were). */
export class NodeStartError extends MeshError {
  constructor(service: string, cause: unknown) {
    super(
      'NODE_START_FAILED',
      `node service '${service}' failed to start: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, details: { service } },
    );
  }
}

export interface ServiceTreeOptions {
  readonly clock: Clock;
  readonly random: Random;
  /** Tests only: lets the test crash the services. */
  readonly faults?: ServiceFaults;
}

export class ServiceTree {
  private readonly supervisor: Supervisor;
  private failureError: EscalationError | undefined;
  private readonly failureListeners = new Set<(error: EscalationError) => void>();
  private readonly abandonedCloses: string[] = [];

  constructor(
    private readonly services: readonly NodeService[],
    options: ServiceTreeOptions,
  ) {
    this.supervisor = new Supervisor(
      {
        name: 'node',
        strategy: 'one-for-one',
        children: services.map((service) => serviceChild(service, options.faults)),
      },
      {
        clock: options.clock,
        random: options.random.fork('supervisor'),
        onNodeStop: (error) => this.failed(error),
      },
    );
    this.supervisor.subscribe((event) => {
      if (event.action === 'force-stop' && event.child !== undefined)
        this.abandonedCloses.push(`${event.child}: ${event.reason ?? 'abandoned'}`);
    });
  }

  /**
   * The services whose close outlived its shutdown timeout, with why: the tree went on without
   * them, so what they still hold (sockets, timers) may keep the process alive after "stopped".
   */
  abandoned(): readonly string[] {
    return [...this.abandonedCloses];
  }

  /**
   * Starts every service in dependency order. When one cannot start, those already started are
   * stopped in reverse order (ports and the data-directory lock are free again) and the start
   * rejects with that service's typed error (`NodeStartError` naming it when it had none).
   */
  async start(): Promise<void> {
    try {
      await this.supervisor.start();
    } catch (error) {
      throw startFailure(error);
    }
  }

  /** Each service's phase and restart count, as `/status` shows them. */
  status(): ServiceTreeStatus {
    return serviceTreeStatus(this.supervisor, this.services);
  }

  /** Set once a critical service failed and the tree stopped: which service, and why. */
  failure(): EscalationError | undefined {
    return this.failureError;
  }

  /** Calls `listener` once a critical service failed (at once if one has). */
  onFailure(listener: (error: EscalationError) => void): void {
    if (this.failureError !== undefined) listener(this.failureError);
    else this.failureListeners.add(listener);
  }

  /** Resolves once `signal` aborts ('stopped') or a critical service fails ('failed'). */
  whenEnded(signal: AbortSignal): Promise<'stopped' | 'failed'> {
    return new Promise((resolve) => {
      this.onFailure(() => resolve('failed'));
      if (signal.aborted) resolve('stopped');
      signal.addEventListener('abort', () => resolve('stopped'), { once: true });
    });
  }

  stop(reason: string): Promise<void> {
    return this.supervisor.stop(reason);
  }

  private failed(error: EscalationError): void {
    if (this.failureError !== undefined) return;
    this.failureError = error;
    for (const listener of [...this.failureListeners]) listener(error);
    this.failureListeners.clear();
  }
}

/** The typed error of the service that failed the boot, or `NodeStartError` naming it. */
function startFailure(error: unknown): unknown {
  if (!(error instanceof BootFailedError)) return error;
  let cause: unknown = error.cause;
  while (cause instanceof ChildStartError && cause.cause !== undefined) cause = cause.cause;
  return isMeshError(cause) && !(cause instanceof ChildStartError)
    ? cause
    : new NodeStartError(error.child, cause);
}
