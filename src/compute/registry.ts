import type { DaemonEvent, DaemonHealth } from './daemon.js';
import { HEALTHY } from './daemon.js';
import { DaemonNotFoundError, DuplicateOriginError } from './errors.js';
import type { DaemonHost } from './host.js';

/** Called after a delivery was applied, with the event and its inbound position at that daemon. */
export type DeliveryObserver = (origin: bigint, event: DaemonEvent, inboundPosition: number) => void;

/** Called before a delivery; throwing refuses the event (it is then not applied). */
export type DeliveryGate = (origin: bigint, event: DaemonEvent) => void;

/** Returned by `observe` and `addGate`; `dispose` unregisters. Disposing twice is harmless. */
export interface Disposable {
  dispose(): void;
}

/**
 * The hooks of one origin. Kept apart from the entry so that they survive the daemon being
 * unregistered and re-spawned under the same origin. Arrays are replaced, never mutated, so
 * a delivery that is iterating them is not disturbed by a dispose.
 */
export interface OriginHooks {
  observers: DeliveryObserver[];
  gates: DeliveryGate[];
}

export interface RegistryEntry {
  readonly origin: bigint;
  readonly kind: string;
  readonly host: DaemonHost;
  readonly hooks: OriginHooks;
  health: DaemonHealth;
  errorCount: number;
  crashReported: boolean;
}

/** The daemons a runtime serves, by origin hash. */
export class DaemonRegistry {
  private readonly entries = new Map<bigint, RegistryEntry>();
  private readonly hooksByOrigin = new Map<bigint, OriginHooks>();
  // One-entry cache: bursts of deliveries to one origin skip the BigInt-keyed map lookup.
  private cachedOrigin: bigint | undefined;
  private cachedEntry: RegistryEntry | undefined;

  get size(): number {
    return this.entries.size;
  }

  add(kind: string, host: DaemonHost): RegistryEntry {
    const origin = host.originHash;
    if (this.entries.has(origin)) throw new DuplicateOriginError(origin);
    const entry: RegistryEntry = {
      origin,
      kind,
      host,
      hooks: this.hooksFor(origin),
      health: HEALTHY,
      errorCount: 0,
      crashReported: false,
    };
    this.entries.set(origin, entry);
    return entry;
  }

  remove(origin: bigint): RegistryEntry {
    const entry = this.require(origin);
    this.entries.delete(origin);
    this.cachedOrigin = undefined;
    this.cachedEntry = undefined;
    this.dropHooksIfUnused(origin);
    return entry;
  }

  get(origin: bigint): RegistryEntry | undefined {
    return this.entries.get(origin);
  }

  require(origin: bigint): RegistryEntry {
    if (origin === this.cachedOrigin && this.cachedEntry !== undefined) return this.cachedEntry;
    const entry = this.entries.get(origin);
    if (entry === undefined) throw new DaemonNotFoundError(origin);
    this.cachedOrigin = origin;
    this.cachedEntry = entry;
    return entry;
  }

  has(origin: bigint): boolean {
    return this.entries.has(origin);
  }

  list(): RegistryEntry[] {
    return [...this.entries.values()];
  }

  observe(origin: bigint, observer: DeliveryObserver): Disposable {
    const hooks = this.hooksFor(origin);
    hooks.observers = [...hooks.observers, observer];
    return this.disposer(() => {
      hooks.observers = hooks.observers.filter((candidate) => candidate !== observer);
      this.dropHooksIfUnused(origin);
    });
  }

  addGate(origin: bigint, gate: DeliveryGate): Disposable {
    const hooks = this.hooksFor(origin);
    hooks.gates = [...hooks.gates, gate];
    return this.disposer(() => {
      hooks.gates = hooks.gates.filter((candidate) => candidate !== gate);
      this.dropHooksIfUnused(origin);
    });
  }

  observerCount(origin: bigint): number {
    return this.hooksByOrigin.get(origin)?.observers.length ?? 0;
  }

  private hooksFor(origin: bigint): OriginHooks {
    let hooks = this.hooksByOrigin.get(origin);
    if (hooks === undefined) {
      hooks = { observers: [], gates: [] };
      this.hooksByOrigin.set(origin, hooks);
    }
    return hooks;
  }

  private dropHooksIfUnused(origin: bigint): void {
    const hooks = this.hooksByOrigin.get(origin);
    if (hooks === undefined || this.entries.has(origin)) return;
    if (hooks.observers.length === 0 && hooks.gates.length === 0) this.hooksByOrigin.delete(origin);
  }

  private disposer(action: () => void): Disposable {
    let disposed = false;
    return {
      dispose() {
        if (disposed) return;
        disposed = true;
        action();
      },
    };
  }
}
