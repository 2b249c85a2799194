import { MeshError } from '../lib/index.js';

/** The crash a test asked for; the supervisor sees it as the service failing on its own. */
export class InjectedFaultError extends MeshError {
  constructor(service: string, reason: string) {
    super('FAULT_INJECTED', `injected fault in '${service}': ${reason}`, { details: { service, reason } });
  }
}

/**
 * Test-only crash switch for a node's services. A node is given one only when a test asks for it
 * (in-process, or `MESHOS_FAULT_INJECTION=1` for `meshos start`, which then serves
 * `POST /faults/crash/<service>` on its admin port); production nodes have none.
 */
export class ServiceFaults {
  private readonly armed = new Map<string, (error: InjectedFaultError) => void>();

  /** Makes the running incarnation of `service` fail; false when it is not running. */
  crash(service: string, reason = 'crash requested'): boolean {
    const fail = this.armed.get(service);
    if (fail === undefined) return false;
    this.armed.delete(service);
    fail(new InjectedFaultError(service, reason));
    return true;
  }

  /** The services that can be crashed now. */
  services(): string[] {
    return [...this.armed.keys()];
  }

  /** Called by a service once it serves; the returned function disarms it when it stops. */
  arm(service: string, fail: (error: InjectedFaultError) => void): () => void {
    this.armed.set(service, fail);
    return () => {
      if (this.armed.get(service) === fail) this.armed.delete(service);
    };
  }
}
