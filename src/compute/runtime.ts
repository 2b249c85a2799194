import type { Clock } from '../lib/index.js';
import { assert, describeValue, InputProblems, isMeshError } from '../lib/index.js';
import type { ControlSignal, DaemonEvent, DaemonFactory, DaemonHealth } from './daemon.js';
import { eventError, isDaemonEvent, sameHealth } from './daemon.js';
import {
  DaemonCrashedError,
  DaemonRemovedError,
  DuplicateKindError,
  DuplicateOriginError,
  RuntimePhaseError,
  UnknownKindError,
} from './errors.js';
import {
  type ChainPosition,
  DaemonHost,
  type DaemonHostConfig,
  DEFAULT_HOST_CONFIG,
  hostConfigProblems,
} from './host.js';
import { type DaemonIdentity, identityProblems } from './identity.js';
import { MAX_LIFECYCLE_LISTENERS } from './limits.js';
import {
  DaemonRegistry,
  type DeliveryGate,
  type DeliveryObserver,
  type Disposable,
  type RegistryEntry,
} from './registry.js';

/** registering (kinds may be added) -> ready (spawn, deliver) -> shutting-down -> stopped. */
export type RuntimePhase = 'registering' | 'ready' | 'shutting-down' | 'stopped';

export type LifecycleEvent =
  | { readonly type: 'registered'; readonly origin: bigint; readonly kind: string }
  | { readonly type: 'unregistered'; readonly origin: bigint; readonly kind: string }
  | {
      readonly type: 'crashed';
      readonly origin: bigint;
      readonly kind: string;
      readonly error: unknown;
      readonly errorCount: number;
    }
  | {
      readonly type: 'health-changed';
      readonly origin: bigint;
      readonly kind: string;
      readonly previous: DaemonHealth;
      readonly current: DaemonHealth;
    };

export type LifecycleListener = (event: LifecycleEvent) => void;

export interface SpawnOptions {
  readonly hostConfig?: DaemonHostConfig;
  /** Continue this origin's chain from here (a re-spawned member) instead of a new genesis. */
  readonly chainPosition?: ChainPosition;
}

export interface RuntimeStats {
  readonly delivered: number;
  readonly crashes: number;
  readonly observerErrors: number;
  readonly lifecycleListenerErrors: number;
}

export interface DaemonRuntimeOptions {
  readonly clock: Clock;
  readonly hostConfig?: DaemonHostConfig;
}

const READY_ONLY: readonly RuntimePhase[] = ['ready'];
const CLOCK_METHODS = ['nowMs', 'wallMs', 'setTimer', 'clearTimer'];
const CONTROL_SIGNAL_TYPES: readonly ControlSignal['type'][] = [
  'shutdown',
  'drain-start',
  'drain-finish',
  'backpressure-on',
  'backpressure-off',
];

function requireHook(operation: string, origin: bigint, hook: unknown): void {
  const problems = new InputProblems();
  if (typeof origin !== 'bigint') problems.add(`origin must be a bigint, got ${describeValue(origin)}`);
  problems.func('hook', hook);
  problems.throwIfAny(operation);
}
const REGISTERING_ONLY: readonly RuntimePhase[] = ['registering'];
const CONTROL_PHASES: readonly RuntimePhase[] = ['ready', 'shutting-down'];

/**
 * Serves daemons in one process: a factory per kind, spawn by identity, deliver by origin,
 * post-delivery observers and pre-delivery gates per origin, and lifecycle events. A daemon
 * that throws is marked crashed, counted and reported; the others keep being served.
 */
export class DaemonRuntime {
  readonly registry = new DaemonRegistry();
  private readonly clock: Clock;
  private readonly hostConfig: DaemonHostConfig;
  private readonly factories = new Map<string, DaemonFactory>();
  private currentPhase: RuntimePhase = 'registering';
  private listeners: LifecycleListener[] = [];
  private deliveredCount = 0;
  private crashCount = 0;
  private observerErrorCount = 0;
  private listenerErrorCount = 0;

  constructor(options: DaemonRuntimeOptions) {
    const problems = new InputProblems();
    if (problems.record('options', options)) {
      problems.methods('clock', options.clock, CLOCK_METHODS);
      if (options.hostConfig !== undefined && problems.record('hostConfig', options.hostConfig)) {
        problems.nested('hostConfig', hostConfigProblems(options.hostConfig));
      }
    }
    problems.throwIfAny('daemon runtime options');
    this.clock = options.clock;
    this.hostConfig = options.hostConfig ?? DEFAULT_HOST_CONFIG;
  }

  get phase(): RuntimePhase {
    return this.currentPhase;
  }

  get stats(): RuntimeStats {
    return {
      delivered: this.deliveredCount,
      crashes: this.crashCount,
      observerErrors: this.observerErrorCount,
      lifecycleListenerErrors: this.listenerErrorCount,
    };
  }

  registerKind(kind: string, factory: DaemonFactory): void {
    const problems = new InputProblems();
    problems.text('kind', kind);
    problems.func('factory', factory);
    problems.throwIfAny('daemon kind');
    this.requirePhase('registerKind', REGISTERING_ONLY);
    if (this.factories.has(kind)) throw new DuplicateKindError(kind);
    this.factories.set(kind, factory);
  }

  /** Ends registration; from now on daemons may be spawned and fed. */
  start(): void {
    this.requirePhase('start', REGISTERING_ONLY);
    this.currentPhase = 'ready';
  }

  hasKind(kind: string): boolean {
    return this.factories.has(kind);
  }

  /** The factory of a kind; groups use it to build members. */
  factoryFor(kind: string): DaemonFactory {
    const factory = this.factories.get(kind);
    if (factory === undefined) throw new UnknownKindError(kind);
    return factory;
  }

  spawn(kind: string, identity: DaemonIdentity, options: SpawnOptions = {}): DaemonHost {
    const problems = new InputProblems();
    problems.text('kind', kind);
    identityProblems(problems, 'identity', identity);
    problems.record('options', options);
    problems.throwIfAny('spawn');
    this.requirePhase('spawn', READY_ONLY);
    const factory = this.factoryFor(kind);
    if (this.registry.has(identity.originHash)) throw new DuplicateOriginError(identity.originHash);
    const host = new DaemonHost(
      identity,
      factory(),
      this.clock,
      options.hostConfig ?? this.hostConfig,
      options.chainPosition,
    );
    const entry = this.registry.add(kind, host);
    const origin = host.originHash;
    host.onApplied = (event, position) => {
      this.deliveredCount++;
      this.notify(entry.hooks.observers, origin, event, position);
    };
    this.emit({ type: 'registered', origin: host.originHash, kind });
    return host;
  }

  /**
   * Removes a daemon; its observers and gates stay attached to the origin for a re-spawn.
   * Its deliveries still queued or in flight fail with `DAEMON_REMOVED` (never acknowledged).
   */
  unregister(origin: bigint): DaemonHost {
    const entry = this.registry.remove(origin);
    entry.host.onApplied = undefined;
    entry.host.remove(new DaemonRemovedError(origin));
    this.emit({ type: 'unregistered', origin, kind: entry.kind });
    return entry.host;
  }

  host(origin: bigint): DaemonHost {
    return this.registry.require(origin).host;
  }

  has(origin: bigint): boolean {
    return this.registry.has(origin);
  }

  /**
   * Delivers an event to the daemon with this origin. Gates run first (a throwing gate
   * refuses the event), then the daemon, then the observers. Returns the event's inbound
   * position at that daemon, synchronously when the daemon answered synchronously.
   */
  deliver(origin: bigint, event: DaemonEvent): number | Promise<number> {
    if (this.currentPhase !== 'ready') throw new RuntimePhaseError('deliver', this.currentPhase, READY_ONLY);
    // Checked here so that a malformed event is refused instead of crashing the daemon.
    if (!isDaemonEvent(event)) throw eventError(event);
    const entry = this.registry.require(origin);
    const gates = entry.hooks.gates;
    for (let index = 0; index < gates.length; index++) gates[index]!(origin, event);
    let result: number | Promise<number>;
    try {
      // Observers run inside the host, right after the event is applied.
      result = entry.host.deliver(event);
    } catch (error) {
      throw this.deliveryFailed(entry, error);
    }
    if (typeof result === 'number') return result;
    return result.catch((error: unknown) => {
      throw this.deliveryFailed(entry, error);
    });
  }

  /** Sends a control signal to one daemon; a daemon that throws on it is marked crashed. */
  control(origin: bigint, signal: ControlSignal): void {
    const problems = new InputProblems();
    if (problems.record('signal', signal)) problems.oneOf('signal.type', signal.type, CONTROL_SIGNAL_TYPES);
    problems.throwIfAny('control signal');
    this.requirePhase('control', CONTROL_PHASES);
    const entry = this.registry.require(origin);
    try {
      entry.host.daemon.onControl(signal);
    } catch (error) {
      this.crashEntry(entry, error);
      throw new DaemonCrashedError(origin, error);
    }
  }

  observe(origin: bigint, observer: DeliveryObserver): Disposable {
    requireHook('observe', origin, observer);
    return this.registry.observe(origin, observer);
  }

  addGate(origin: bigint, gate: DeliveryGate): Disposable {
    requireHook('addGate', origin, gate);
    return this.registry.addGate(origin, gate);
  }

  onLifecycle(listener: LifecycleListener): Disposable {
    const problems = new InputProblems();
    problems.func('listener', listener);
    problems.throwIfAny('onLifecycle');
    assert(this.listeners.length < MAX_LIFECYCLE_LISTENERS, 'too many lifecycle listeners');
    this.listeners = [...this.listeners, listener];
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        this.listeners = this.listeners.filter((candidate) => candidate !== listener);
      },
    };
  }

  /** Asks every daemon for its health and reports the ones that changed. */
  checkHealth(): void {
    for (const entry of this.registry.list()) {
      if (entry.host.crashed) continue;
      let current: DaemonHealth;
      try {
        current = entry.host.daemon.health();
      } catch (error) {
        this.crashEntry(entry, error);
        continue;
      }
      this.setHealth(entry, current);
    }
  }

  health(origin: bigint): DaemonHealth {
    return this.registry.require(origin).health;
  }

  /**
   * Sends `shutdown` to every daemon, waits for in-flight deliveries up to `graceMs` on the
   * injected clock, then stops. Deliveries are refused from the moment this is called.
   */
  async shutdown(graceMs: number): Promise<void> {
    const problems = new InputProblems();
    problems.nonNegativeNumber('graceMs', graceMs);
    problems.throwIfAny('shutdown');
    this.requirePhase('shutdown', READY_ONLY);
    this.currentPhase = 'shutting-down';
    const entries = this.registry.list();
    for (const entry of entries) {
      try {
        entry.host.daemon.onControl({ type: 'shutdown', graceMs });
      } catch (error) {
        this.crashEntry(entry, error);
      }
    }
    const idle = Promise.all(entries.map((entry) => entry.host.whenIdle()));
    let timer: number | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = this.clock.setTimer(graceMs, resolve);
    });
    await Promise.race([idle, expired]);
    if (timer !== undefined) this.clock.clearTimer(timer);
    this.currentPhase = 'stopped';
  }

  private deliveryFailed(entry: RegistryEntry, error: unknown): unknown {
    if (isMeshError(error, 'DAEMON_CRASHED') && entry.host.crashed && !entry.crashReported) {
      this.crashEntry(entry, entry.host.crashError);
    }
    return error;
  }

  private crashEntry(entry: RegistryEntry, error: unknown): void {
    if (!entry.host.crashed) entry.host.markCrashed(error);
    entry.crashReported = true;
    entry.errorCount++;
    this.crashCount++;
    this.emit({
      type: 'crashed',
      origin: entry.origin,
      kind: entry.kind,
      error,
      errorCount: entry.errorCount,
    });
    const reason = error instanceof Error ? error.message : String(error);
    this.setHealth(entry, { status: 'unhealthy', reason: `crashed: ${reason}` });
  }

  private setHealth(entry: RegistryEntry, current: DaemonHealth): void {
    const previous = entry.health;
    if (sameHealth(previous, current)) return;
    entry.health = current;
    this.emit({ type: 'health-changed', origin: entry.origin, kind: entry.kind, previous, current });
  }

  private notify(observers: DeliveryObserver[], origin: bigint, event: DaemonEvent, position: number): void {
    for (let index = 0; index < observers.length; index++) {
      try {
        observers[index]!(origin, event, position);
      } catch {
        // An observer's failure must not undo a delivery that is already applied.
        this.observerErrorCount++;
      }
    }
  }

  private emit(event: LifecycleEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        this.listenerErrorCount++;
      }
    }
  }

  private requirePhase(operation: string, allowed: readonly RuntimePhase[]): void {
    if (!allowed.includes(this.currentPhase))
      throw new RuntimePhaseError(operation, this.currentPhase, allowed);
  }
}
