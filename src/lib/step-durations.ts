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

/** Told how long one synchronous piece of work held the event loop. */
export type StepObserver = (source: StepSource, durationMs: number) => void;

/** Longest step and count of long steps per source since start: one slot per source, bounded. */
export class StepDurations {
  private readonly longest = new Map<StepSource, number>();
  private readonly long = new Map<StepSource, number>();

  readonly observe: StepObserver = (source, durationMs) => {
    if (durationMs > (this.longest.get(source) ?? 0)) this.longest.set(source, durationMs);
    if (durationMs > LONG_STEP_THRESHOLD_MS) this.long.set(source, (this.long.get(source) ?? 0) + 1);
  };

  longestMs(source: StepSource): number {
    return this.longest.get(source) ?? 0;
  }

  /** Steps of `source` longer than `LONG_STEP_THRESHOLD_MS`. */
  longCount(source: StepSource): number {
    return this.long.get(source) ?? 0;
  }
}
