import { describeValue, InputProblems, ValidationError } from '../lib/index.js';
import { StatelessDaemonStateError } from './errors.js';

/** An inbound event: opaque bytes, plus an optional key that replica routing may hash. */
export interface DaemonEvent {
  readonly payload: Uint8Array;
  readonly key?: string;
}

/** What `process` returns: the output payloads, each of which becomes one link of the daemon's chain. */
export type ProcessResult = readonly Uint8Array[] | Promise<readonly Uint8Array[]>;

export type DaemonHealth =
  | { readonly status: 'healthy' }
  | { readonly status: 'degraded'; readonly reason: string }
  | { readonly status: 'unhealthy'; readonly reason: string };

export type ControlSignal =
  | { readonly type: 'shutdown'; readonly graceMs: number }
  | { readonly type: 'drain-start' }
  | { readonly type: 'drain-finish' }
  | { readonly type: 'backpressure-on' }
  | { readonly type: 'backpressure-off' };

/**
 * A stateful event processor. `process` may answer synchronously (the fast path: no promise
 * is created anywhere) or with a promise. A daemon with state implements `snapshot` and
 * `restore`; one without leaves them out (its snapshot is empty) or extends `StatelessDaemon`.
 */
export interface MeshDaemon {
  readonly name: string;
  process(event: DaemonEvent): ProcessResult;
  snapshot?(): Uint8Array;
  /** Replaces the daemon's state; a stateless daemon throws `StatelessDaemonStateError` for non-empty state. */
  restore?(state: Uint8Array): void;
  health(): DaemonHealth;
  /** How loaded the daemon is, in [0, 1]; replica routing prefers the less saturated. */
  saturation(): number;
  onControl(signal: ControlSignal): void;
}

/** Creates a fresh daemon of one kind; the runtime calls it on spawn, re-spawn and promotion. */
export type DaemonFactory = () => MeshDaemon;

export const HEALTHY: DaemonHealth = Object.freeze({ status: 'healthy' });
export const EMPTY_STATE: Uint8Array = new Uint8Array(0);

/** Base for daemons that keep no state: empty snapshots, and restore accepts only empty state. */
export abstract class StatelessDaemon implements MeshDaemon {
  abstract readonly name: string;
  abstract process(event: DaemonEvent): ProcessResult;

  snapshot(): Uint8Array {
    return EMPTY_STATE;
  }

  restore(state: Uint8Array): void {
    if (state.length > 0) throw new StatelessDaemonStateError(this.name, state.length);
  }

  health(): DaemonHealth {
    return HEALTHY;
  }

  saturation(): number {
    return 0;
  }

  onControl(_signal: ControlSignal): void {}
}

export function sameHealth(a: DaemonHealth, b: DaemonHealth): boolean {
  if (a.status !== b.status) return false;
  if (a.status === 'healthy' || b.status === 'healthy') return true;
  return a.reason === b.reason;
}

/** Whether `event` has the shape of a `DaemonEvent` (it may come from plain JavaScript). */
export function isDaemonEvent(event: DaemonEvent): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    event.payload instanceof Uint8Array &&
    (event.key === undefined || typeof event.key === 'string')
  );
}

/** The `ValidationError` naming what is wrong with an event that failed `isDaemonEvent`. */
export function eventError(event: DaemonEvent): ValidationError {
  const problems = new InputProblems();
  if (problems.record('event', event)) {
    if (!(event.payload instanceof Uint8Array)) {
      problems.add(`event.payload must be a Uint8Array, got ${describeValue(event.payload)}`);
    }
    if (event.key !== undefined && typeof event.key !== 'string') {
      problems.add(`event.key must be a string when given, got ${describeValue(event.key)}`);
    }
  }
  return new ValidationError('daemon event', problems.list);
}
