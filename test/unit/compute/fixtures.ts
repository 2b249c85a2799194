import {
  type ControlSignal,
  type DaemonEvent,
  type DaemonHealth,
  DaemonRuntime,
  HEALTHY,
  type MeshDaemon,
  type ProcessResult,
} from '../../../src/compute/index.js';
import { isMeshError, ManualClock } from '../../../src/lib/index.js';

/** The code of the MeshError `action` throws, or undefined when it returns. */
export function codeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return isMeshError(error) ? error.code : 'not a MeshError';
  }
}

/** Encodes an event id as a 4-byte payload. */
export function eventOf(id: number, key?: string): DaemonEvent {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, id);
  return key === undefined ? { payload } : { payload, key };
}

export function idOf(event: DaemonEvent): number {
  return new DataView(event.payload.buffer, event.payload.byteOffset, 4).getUint32(0);
}

export function seedOf(label: number): Uint8Array {
  return new Uint8Array(32).fill(label);
}

/**
 * Remembers every event id it applied, in order, so a test can see both lost and doubled
 * events. Emits `outputsFor(id)` outputs per event.
 */
export class LedgerDaemon implements MeshDaemon {
  readonly name = 'ledger';
  applied: number[] = [];
  controls: ControlSignal[] = [];
  failNextRestore = false;
  throwOnId: number | undefined;
  currentHealth: DaemonHealth = HEALTHY;
  load = 0;

  constructor(private readonly outputsFor: (id: number) => number = () => 1) {}

  process(event: DaemonEvent): ProcessResult {
    return this.record(event);
  }

  /** Applies one event: remembers its id and returns its outputs. */
  protected record(event: DaemonEvent): readonly Uint8Array[] {
    const id = idOf(event);
    if (id === this.throwOnId) throw new Error(`refusing event ${id}`);
    this.applied.push(id);
    const outputs: Uint8Array[] = [];
    for (let index = 0; index < this.outputsFor(id); index++) outputs.push(Uint8Array.of(id & 0xff, index));
    return outputs;
  }

  snapshot(): Uint8Array {
    const bytes = new Uint8Array(this.applied.length * 4);
    const view = new DataView(bytes.buffer);
    this.applied.forEach((id, index) => {
      view.setUint32(index * 4, id);
    });
    return bytes;
  }

  restore(state: Uint8Array): void {
    if (this.failNextRestore) {
      this.failNextRestore = false;
      this.applied = [-1];
      throw new Error('restore failed half way');
    }
    const view = new DataView(state.buffer, state.byteOffset, state.byteLength);
    this.applied = [];
    for (let offset = 0; offset < state.byteLength; offset += 4) this.applied.push(view.getUint32(offset));
  }

  health(): DaemonHealth {
    return this.currentHealth;
  }

  saturation(): number {
    return this.load;
  }

  onControl(signal: ControlSignal): void {
    this.controls.push(signal);
  }
}

/** A runtime in the ready phase with the kind `ledger`; `created` lists every daemon it built. */
export function ledgerRuntime(outputsFor?: (id: number) => number): {
  runtime: DaemonRuntime;
  clock: ManualClock;
  created: LedgerDaemon[];
} {
  const clock = new ManualClock();
  const runtime = new DaemonRuntime({ clock });
  const created: LedgerDaemon[] = [];
  runtime.registerKind('ledger', () => {
    const daemon = new LedgerDaemon(outputsFor);
    created.push(daemon);
    return daemon;
  });
  runtime.start();
  return { runtime, clock, created };
}

export function ledgerOf(runtime: DaemonRuntime, origin: bigint): LedgerDaemon {
  const daemon = runtime.host(origin).daemon;
  if (!(daemon instanceof LedgerDaemon)) throw new Error('not a ledger daemon');
  return daemon;
}

export function range(from: number, toInclusive: number): number[] {
  const result: number[] = [];
  for (let id = from; id <= toInclusive; id++) result.push(id);
  return result;
}

/**
 * A ledger daemon whose `process` answers asynchronously: each event waits for `delay(id)`
 * and is recorded as applied only when that promise settles, like a daemon doing IO.
 */
export class AsyncLedgerDaemon extends LedgerDaemon {
  constructor(
    private readonly delay: (id: number) => Promise<void>,
    outputsFor?: (id: number) => number,
  ) {
    super(outputsFor);
  }

  override process(event: DaemonEvent): ProcessResult {
    return this.delay(idOf(event)).then(() => this.record(event));
  }
}

/** A runtime in the ready phase whose kind `ledger` builds `AsyncLedgerDaemon`s sharing `delay`. */
export function asyncLedgerRuntime(delay: (id: number) => Promise<void>): {
  runtime: DaemonRuntime;
  created: AsyncLedgerDaemon[];
} {
  const runtime = new DaemonRuntime({ clock: new ManualClock() });
  const created: AsyncLedgerDaemon[] = [];
  runtime.registerKind('ledger', () => {
    const daemon = new AsyncLedgerDaemon(delay);
    created.push(daemon);
    return daemon;
  });
  runtime.start();
  return { runtime, created };
}

/**
 * Delays the test controls: while held, every `delay` waits until `releaseOldest` or
 * `releaseAll`; while open, it settles at once.
 */
export class ManualDelays {
  private held = false;
  private waiting: (() => void)[] = [];

  readonly delay = (): Promise<void> => {
    if (!this.held) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
    });
  };

  get waitingCount(): number {
    return this.waiting.length;
  }

  hold(): void {
    this.held = true;
  }

  releaseOldest(): void {
    this.waiting.shift()?.();
  }

  releaseAll(): void {
    this.held = false;
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }
}
