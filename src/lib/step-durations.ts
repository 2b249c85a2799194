import { GcInsideSteps, type LongStepObserver, type StepDetails } from './gc-inside-steps.js';
import type { RunQueueWaitLog } from './run-queue-wait.js';

/**
 * The synchronous pieces of a node's own work that hold the event loop, by source. A wall-clock
 * event-loop delay mixes a node's long work with waiting for a CPU (on a busy machine the
 * second dominates); the time spent inside each piece is the node's own.
 */
export const STEP_SOURCES = [
  /** One turn's Ready processing: send, stage the write, apply committed entries, release reads. */
  'ready',
  /** Applying a Ready's committed entries (part of `ready`). */
  'apply',
  /** Decoding one peer message and stepping it into the Raft core. */
  'peer-message',
  /** One step of a background snapshot encode. */
  'snapshot-step',
  /** One step of installing a leader's snapshot. */
  'restore-step',
  /** One step of restoring the newest snapshot file while the node starts. */
  'startup-restore-step',
  /** One file write on the event loop (the write-ahead log's, when it writes inline). */
  'inline-write',
  /** One fdatasync on the event loop (the write-ahead log's, when it writes inline). */
  'inline-sync',
  /** One young-generation garbage collection (V8's scavenge); it falls inside another step. */
  'gc-minor',
  /** One pause of a full garbage collection (mark-compact, its incremental steps, weak callbacks). */
  'gc-major',
] as const;

export type StepSource = (typeof STEP_SOURCES)[number];

/** A step longer than this counts as a stall (the bound on the event loop). */
export const LONG_STEP_THRESHOLD_MS = 50;

/**
 * Told how long one synchronous piece of work held the event loop; `details` (what the step did)
 * is called only for a step whose own time passed `LONG_STEP_THRESHOLD_MS`, and at once.
 */
export type StepObserver = (source: StepSource, durationMs: number, details?: () => StepDetails) => void;

/** Told that a synchronous piece of work starts now (so its start can be read off the scheduler). */
export type StepStartObserver = () => void;

/** A garbage-collection pause whose own time passed `LONG_STEP_THRESHOLD_MS`. */
export interface LongPause {
  readonly source: StepSource;
  /** When the pause started, on the clock of `performance.now()`. */
  readonly startMs: number;
  readonly wallMs: number;
  readonly ownMs: number;
  /**
   * The main thread's time on a CPU over the pause (from the readings around it: at least its
   * CPU in the pause), when known. Own time less this is the main thread neither running nor
   * waiting for a CPU: waiting for V8's helper threads, which may themselves wait for a CPU.
   */
  readonly mainThreadCpuMs?: number;
}

/** Told of each long garbage-collection pause as it is heard of (the node logs it). */
export type LongPauseObserver = (pause: LongPause) => void;

/**
 * Longest step and count of long steps per source since start, by wall time and by the node's
 * own time (wall less the main thread's run-queue wait, when a `RunQueueWaitLog` is given; else
 * equal to wall): one slot per source, bounded.
 */
export class StepDurations {
  private readonly longest = new Map<StepSource, number>();
  private readonly long = new Map<StepSource, number>();
  private readonly longestOwn = new Map<StepSource, number>();
  private readonly longOwn = new Map<StepSource, number>();
  /** Long steps by own time, with the GC pauses inside them taken out once heard of. */
  private readonly gcInside: GcInsideSteps;

  /**
   * `onLongStep` hears of each step whose own time less the GC inside passed the threshold,
   * `onLongPause` of each GC pause whose own time did: with their start times, so that a long
   * one can be set beside what the rest of the machine saw at that moment.
   */
  constructor(
    private readonly waits?: RunQueueWaitLog,
    onLongStep?: LongStepObserver,
    private readonly onLongPause?: LongPauseObserver,
  ) {
    this.gcInside = new GcInsideSteps(LONG_STEP_THRESHOLD_MS, onLongStep);
  }

  /** Called as a step starts: keeps a reading of the run queue within `FRESH_READING_MS`. */
  readonly started: StepStartObserver = () => {
    this.waits?.refresh();
  };

  readonly observe: StepObserver = (source, durationMs, details) => {
    this.observeWall(source, durationMs);
    // Own time is at most the wall time: only a step that could set a record or count as long
    // pays for a reading.
    if (!this.couldMatter(source, durationMs)) return;
    const nowMs = this.waits?.nowMs();
    const waitMs = nowMs === undefined ? 0 : (this.waits?.waitSinceMs(nowMs - durationMs) ?? 0);
    const ownMs = Math.max(0, durationMs - waitMs);
    this.observeOwn(source, ownMs);
    if (nowMs !== undefined && ownMs > LONG_STEP_THRESHOLD_MS)
      this.gcInside.longStep({
        source,
        startMs: nowMs - durationMs,
        endMs: nowMs,
        ownMs,
        details: details?.(),
        mainThreadCpuMs: this.waits?.onCpuOverMs(nowMs - durationMs, nowMs),
      });
  };

  /** A pause reported after it ended (V8's garbage collections), by its start on the log's clock. */
  observePast(source: StepSource, startMs: number, durationMs: number): void {
    this.observeWall(source, durationMs);
    // Every pause is split (a few dozen a second): it is taken out of the long steps it fell in.
    const waitMs = this.waits?.waitOverMs(startMs, startMs + durationMs) ?? 0;
    const ownMs = Math.max(0, durationMs - waitMs);
    this.observeOwn(source, ownMs);
    this.gcInside.pause(startMs, durationMs, ownMs);
    if (ownMs > LONG_STEP_THRESHOLD_MS) {
      const mainThreadCpuMs = this.waits?.onCpuOverMs(startMs, startMs + durationMs);
      this.onLongPause?.({
        source,
        startMs,
        wallMs: durationMs,
        ownMs,
        ...(mainThreadCpuMs === undefined ? {} : { mainThreadCpuMs }),
      });
    }
  }

  /** Judges the long steps that no unheard GC pause can still fall in (before a scrape). */
  settle(): void {
    const nowMs = this.waits?.nowMs();
    if (nowMs !== undefined) this.gcInside.settle(nowMs);
  }

  /**
   * Steps of `source` whose own time less the GC pauses inside them passed
   * `LONG_STEP_THRESHOLD_MS` (judged a second after they end; needs a run-queue log).
   */
  longOwnCountOutsideGc(source: StepSource): number {
    return this.gcInside.countOutsideGc(source);
  }

  /** The longest own time less GC among the steps of `source` whose own time passed the threshold. */
  longestOwnOutsideGcMs(source: StepSource): number {
    return this.gcInside.longestOutsideGcMs(source);
  }

  longestMs(source: StepSource): number {
    return this.longest.get(source) ?? 0;
  }

  /** Steps of `source` longer than `LONG_STEP_THRESHOLD_MS`. */
  longCount(source: StepSource): number {
    return this.long.get(source) ?? 0;
  }

  /** The longest step of `source` by the node's own time. */
  longestOwnMs(source: StepSource): number {
    return this.longestOwn.get(source) ?? 0;
  }

  /** Steps of `source` whose own time passed `LONG_STEP_THRESHOLD_MS`. */
  longOwnCount(source: StepSource): number {
    return this.longOwn.get(source) ?? 0;
  }

  private couldMatter(source: StepSource, durationMs: number): boolean {
    return durationMs > LONG_STEP_THRESHOLD_MS || durationMs > this.longestOwnMs(source);
  }

  private observeWall(source: StepSource, durationMs: number): void {
    if (durationMs > this.longestMs(source)) this.longest.set(source, durationMs);
    if (durationMs > LONG_STEP_THRESHOLD_MS) this.long.set(source, this.longCount(source) + 1);
  }

  private observeOwn(source: StepSource, ownMs: number): void {
    if (ownMs > this.longestOwnMs(source)) this.longestOwn.set(source, ownMs);
    if (ownMs > LONG_STEP_THRESHOLD_MS) this.longOwn.set(source, this.longOwnCount(source) + 1);
  }
}
