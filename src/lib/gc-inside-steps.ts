import type { StepSource } from './step-durations.js';

/**
 * How much of a long step was garbage collection. V8 reports a pause only after it ended (a
 * PerformanceObserver entry, a turn or more later), so a step whose own time passed the
 * threshold waits here, and each pause heard about meanwhile is taken out of the steps it fell
 * inside. A step is judged once no pause inside it can still be unheard of.
 */

/** A long step is judged this long after it ended: V8's pause entries arrive within a turn or two. */
export const GC_REPORT_DELAY_MS = 1_000;
/** Long steps waiting to be judged at most; past it the oldest is judged at once. */
export const LONG_STEPS_PENDING = 64;

/** What a step did, by name (entries applied, messages sent, ms per phase), for the log of long steps. */
export type StepDetails = Readonly<Record<string, number>>;

/** A step whose own time less the GC inside it passed the threshold, as judged. */
export interface LongStepOutsideGc {
  readonly source: StepSource;
  /** When the step started, on the clock of `performance.now()`. */
  readonly startMs: number;
  /** Own time less the GC pauses inside. */
  readonly outsideGcMs: number;
  readonly ownMs: number;
  readonly wallMs: number;
  /**
   * The main thread's time on a CPU over the step, when known. Own time less this is the thread
   * blocked (an fdatasync's wait, a lock, a stopped process); a host that stops the virtual CPU
   * is not told apart from work.
   */
  readonly mainThreadCpuMs?: number;
  readonly details?: StepDetails;
}

/** Told of each long step outside GC once judged (the node logs it with what the step did). */
export type LongStepObserver = (step: LongStepOutsideGc) => void;

/** A step whose own time passed the threshold, as the step log hands it over. */
export interface LongStep {
  readonly source: StepSource;
  readonly startMs: number;
  readonly endMs: number;
  readonly ownMs: number;
  /** What the step did. */
  readonly details?: StepDetails | undefined;
  /** The main thread's time on a CPU over the step, when known. */
  readonly mainThreadCpuMs?: number | undefined;
}

interface PendingStep extends LongStep {
  gcOwnMs: number;
}

export class GcInsideSteps {
  private pending: PendingStep[] = [];
  private readonly counts = new Map<StepSource, number>();
  private readonly longest = new Map<StepSource, number>();

  constructor(
    private readonly thresholdMs: number,
    private readonly onLongStep?: LongStepObserver,
  ) {}

  /** A step whose own time passed the threshold. */
  longStep(step: LongStep): void {
    this.settle(step.endMs);
    if (this.pending.length >= LONG_STEPS_PENDING) this.judge(this.pending.shift() as PendingStep);
    this.pending.push({ ...step, gcOwnMs: 0 });
  }

  /** A GC pause over [startMs, startMs + durationMs], `ownMs` of it the thread's own time. */
  pause(startMs: number, durationMs: number, ownMs: number): void {
    const endMs = startMs + durationMs;
    for (const step of this.pending) {
      const overlapMs = Math.min(endMs, step.endMs) - Math.max(startMs, step.startMs);
      if (overlapMs > 0 && durationMs > 0) step.gcOwnMs += (ownMs * overlapMs) / durationMs;
    }
  }

  /** Judges the steps that ended at least `GC_REPORT_DELAY_MS` before `nowMs`. */
  settle(nowMs: number): void {
    while (this.pending.length > 0 && (this.pending[0] as PendingStep).endMs <= nowMs - GC_REPORT_DELAY_MS) {
      this.judge(this.pending.shift() as PendingStep);
    }
  }

  /** Judged steps of `source` whose own time less the GC inside them still passed the threshold. */
  countOutsideGc(source: StepSource): number {
    return this.counts.get(source) ?? 0;
  }

  /** The longest own time less GC among the judged long steps of `source` (0 when none passed). */
  longestOutsideGcMs(source: StepSource): number {
    return this.longest.get(source) ?? 0;
  }

  private judge(step: PendingStep): void {
    const outsideMs = Math.max(0, step.ownMs - step.gcOwnMs);
    if (outsideMs > this.longestOutsideGcMs(step.source)) this.longest.set(step.source, outsideMs);
    if (outsideMs <= this.thresholdMs) return;
    this.counts.set(step.source, this.countOutsideGc(step.source) + 1);
    this.onLongStep?.({
      source: step.source,
      startMs: step.startMs,
      outsideGcMs: outsideMs,
      ownMs: step.ownMs,
      wallMs: step.endMs - step.startMs,
      ...(step.mainThreadCpuMs === undefined ? {} : { mainThreadCpuMs: step.mainThreadCpuMs }),
      ...(step.details === undefined ? {} : { details: step.details }),
    });
  }
}
