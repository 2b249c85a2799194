/**
 * Runs auto-compaction on the leader: on each leader duty turn it asks the policy for a target and
 * proposes Compact requests through the log until the store is compacted to it. A target is reached
 * in steps of at most `MAX_COMPACTION_STEP_RECORDS` records, each its own log entry, so applying one
 * step stays short (a few milliseconds) on every replica however much history piled up.
 */
import { type AutoCompactionConfig, AutoCompactionPolicy } from './auto-compaction-policy.js';

/**
 * Most change records one compaction step walks. At 10,000 a step's apply took 4.7 ms of CPU at
 * the median but up to 32 ms (load 18, in-process), and Readys applying a handful of entries took
 * 37-61 ms of a member's own time under saturation; 2,500 takes 1.1 ms at the median and at most
 * 7-13 ms for the same total (docs/BENCHMARKS.md, "Compaction steps").
 */
export const MAX_COMPACTION_STEP_RECORDS = 2_500;

/** What the compactor needs from the node: the store's revisions and a way to compact it. */
export interface CompactionTarget {
  readonly currentRevision: () => number;
  readonly compactRevision: () => number;
  /** The revision a compaction towards `target` may go to dropping at most `maxRecords` records. */
  readonly stepTowards: (target: number, maxRecords: number) => number;
  /** Proposes a compaction through the log; resolves once applied. */
  readonly compact: (revision: number) => Promise<void>;
}

export interface AutoCompactorCounters {
  /** Compaction steps applied. */
  readonly steps: number;
  /** Steps that failed (leadership lost, or another compaction got there first). */
  readonly failedSteps: number;
}

export class AutoCompactor {
  private readonly policy: AutoCompactionPolicy;
  /** A target not yet reached (steps still to propose). */
  private pendingTarget: number | undefined;
  private running = false;
  private steps = 0;
  private failedSteps = 0;

  constructor(
    config: AutoCompactionConfig,
    private readonly store: CompactionTarget,
  ) {
    this.policy = new AutoCompactionPolicy(config);
  }

  get config(): AutoCompactionConfig {
    return this.policy.config;
  }

  get counters(): AutoCompactorCounters {
    return { steps: this.steps, failedSteps: this.failedSteps };
  }

  /** This node stopped leading: forget samples and targets (the next leader decides afresh). */
  reset(): void {
    this.policy.reset();
    this.pendingTarget = undefined;
  }

  /** One leader duty turn; proposes the steps towards a due target, one at a time. */
  turn(nowMs: number): void {
    if (!this.policy.enabled) return;
    const compactRevision = this.store.compactRevision();
    const target = this.policy.target(nowMs, this.store.currentRevision(), compactRevision);
    if (target !== undefined && target > (this.pendingTarget ?? 0)) this.pendingTarget = target;
    if (this.running || this.pendingTarget === undefined) return;
    if (this.pendingTarget <= compactRevision) {
      this.pendingTarget = undefined;
      return;
    }
    this.running = true;
    this.compactSteps().finally(() => {
      this.running = false;
    });
  }

  private async compactSteps(): Promise<void> {
    for (;;) {
      const target = this.pendingTarget;
      if (target === undefined || target <= this.store.compactRevision()) {
        this.pendingTarget = undefined;
        return;
      }
      try {
        await this.store.compact(this.store.stepTowards(target, MAX_COMPACTION_STEP_RECORDS));
        this.steps++;
      } catch {
        // Lost leadership, or a client compacted past this step; the next turn looks again.
        this.failedSteps++;
        return;
      }
    }
  }
}
