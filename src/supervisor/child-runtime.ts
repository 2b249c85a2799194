import type { CompiledChild } from './compile.js';
import type { NameLease } from './name-registry.js';
import type { DrainHandler } from './spec.js';

export type ChildStatus =
  | 'idle'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'restarting'
  | 'stopped'
  | 'disabled';

/** How a child's lifetime promise ended. */
export type Outcome = { readonly kind: 'normal' } | { readonly kind: 'crash'; readonly error: unknown };

/** What a live supervisor knows about one child across its incarnations. */
export interface ChildRuntime {
  readonly spec: CompiledChild;
  status: ChildStatus;
  /** Counts starts; exits of older incarnations are ignored. */
  incarnation: number;
  controller: AbortController | undefined;
  /** The current incarnation's lifetime, never rejecting. */
  settled: Promise<Outcome> | undefined;
  lease: NameLease | undefined;
  drainHandler: DrainHandler | undefined;
  /** Restart times inside the current window, at most `maxRestarts` of them. */
  restartTimesMs: readonly number[];
  /** Restarts since the supervisor started, never reset (the window above forgets). */
  restarts: number;
  /** Why the last incarnation ended or failed to start, if one did. */
  lastExitReason: string | undefined;
}

/** The reason put on a child's abort signal when the supervisor stops it. */
export class ChildStopRequest extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ChildStopRequest';
  }
}
