/**
 * Two clocks, kept apart as seed 002 warns: times that cross the wire or are committed to the
 * control plane are wall-clock milliseconds (`...WallMs`); times that live inside one process (a
 * StopDaemon's deadline, a backoff gate, an action's emission) are monotonic milliseconds
 * (`...MonotonicMs`), which are meaningless in another process. Conversions happen here only.
 */
export interface ReconcileTime {
  /** `Clock.nowMs()` of the process running reconcile. */
  readonly monotonicMs: number;
  /** `Clock.wallMs()` at the same moment. */
  readonly wallMs: number;
}

/** The in-process instant at which the wall clock reads `wallMs`. */
export function monotonicFromWall(time: ReconcileTime, wallMs: number): number {
  return time.monotonicMs + (wallMs - time.wallMs);
}

/** The wall-clock reading at in-process instant `monotonicMs`. */
export function wallFromMonotonic(time: ReconcileTime, monotonicMs: number): number {
  return time.wallMs + (monotonicMs - time.monotonicMs);
}
