/**
 * When to compact, as etcd's `--auto-compaction-mode` / `--auto-compaction-retention` decide it,
 * without a clock of its own: the caller passes the time and the store's revisions, and gets the
 * revision to compact to (or nothing). Only the leader asks; the compaction itself goes through
 * the log, so every replica compacts at the same revision.
 *
 * - `periodic`: keep at least `retention` milliseconds of history. The current revision is sampled
 *   every `retention / PERIODIC_SAMPLES_PER_RETENTION` (between the two named bounds); the target is
 *   the newest sample taken at least `retention` ago. History kept stays between `retention` and
 *   `retention` plus one sample interval.
 * - `revision`: keep the last `retention` revisions, checked every `REVISION_CHECK_INTERVAL_MS`.
 *   etcd checks every 5 minutes; at thousands of writes a second that lets millions of revisions
 *   pile up past the retention between checks, so we check every 10 s (a check is one comparison).
 */
import { assert, ValidationError } from '../lib/index.js';

export type AutoCompactionMode = 'periodic' | 'revision';

export interface AutoCompactionConfig {
  readonly mode: AutoCompactionMode;
  /** Milliseconds of history (`periodic`) or a number of revisions (`revision`); 0 turns it off. */
  readonly retention: number;
}

/** Samples of the revision taken per retention period in `periodic` mode. */
export const PERIODIC_SAMPLES_PER_RETENTION = 10;
/** Shortest time between two samples, whatever the retention. */
export const MIN_PERIODIC_SAMPLE_INTERVAL_MS = 100;
/** Longest time between two samples (etcd compacts at least hourly with long retentions). */
export const MAX_PERIODIC_SAMPLE_INTERVAL_MS = 60 * 60 * 1000;
/** How often `revision` mode compares the current revision with the retention. */
export const REVISION_CHECK_INTERVAL_MS = 10_000;

interface RevisionSample {
  readonly atMs: number;
  readonly revision: number;
}

/** Every problem with an auto-compaction setting at once (none: an empty list). */
export function autoCompactionProblems(config: AutoCompactionConfig): string[] {
  const problems: string[] = [];
  if (config.mode !== 'periodic' && config.mode !== 'revision')
    problems.push(`mode must be 'periodic' or 'revision', got '${String(config.mode)}'`);
  if (!Number.isSafeInteger(config.retention) || config.retention < 0)
    problems.push(`retention must be a non-negative integer, got ${config.retention}`);
  return problems;
}

export function validateAutoCompaction(config: AutoCompactionConfig): void {
  const problems = autoCompactionProblems(config);
  if (problems.length > 0) throw new ValidationError('auto-compaction', problems);
}

export class AutoCompactionPolicy {
  private samples: RevisionSample[] = [];
  private lastCheckMs: number | undefined;
  /** One retention period's worth of samples plus the one at its far end (and one in hand). */
  private readonly maxSamples: number;

  constructor(readonly config: AutoCompactionConfig) {
    validateAutoCompaction(config);
    this.maxSamples = Math.ceil(config.retention / this.sampleIntervalMs) + 2;
  }

  get enabled(): boolean {
    return this.config.retention > 0;
  }

  /** How often `periodic` mode samples the revision. */
  get sampleIntervalMs(): number {
    const share = Math.floor(this.config.retention / PERIODIC_SAMPLES_PER_RETENTION);
    return Math.min(MAX_PERIODIC_SAMPLE_INTERVAL_MS, Math.max(MIN_PERIODIC_SAMPLE_INTERVAL_MS, share));
  }

  /** Forgets what was sampled (this node stopped leading; a new term starts over, as in etcd). */
  reset(): void {
    this.samples = [];
    this.lastCheckMs = undefined;
  }

  /** The revision to compact to now, or undefined when nothing is due. */
  target(nowMs: number, currentRevision: number, compactRevision: number): number | undefined {
    if (!this.enabled) return undefined;
    const target =
      this.config.mode === 'periodic'
        ? this.periodicTarget(nowMs, currentRevision)
        : this.revisionTarget(nowMs, currentRevision);
    return target !== undefined && target > compactRevision && target <= currentRevision ? target : undefined;
  }

  private periodicTarget(nowMs: number, currentRevision: number): number | undefined {
    const last = this.samples.at(-1);
    if (last === undefined || nowMs - last.atMs >= this.sampleIntervalMs) {
      this.samples.push({ atMs: nowMs, revision: currentRevision });
    }
    // The newest sample at least one retention old; older ones are no longer needed.
    let due = -1;
    for (let position = 0; position < this.samples.length; position++) {
      if (nowMs - (this.samples[position] as RevisionSample).atMs >= this.config.retention) due = position;
    }
    if (due > 0) this.samples.splice(0, due);
    assert(this.samples.length <= this.maxSamples, 'auto-compaction: more samples than one retention holds');
    return due < 0 ? undefined : (this.samples[0] as RevisionSample).revision;
  }

  private revisionTarget(nowMs: number, currentRevision: number): number | undefined {
    if (this.lastCheckMs !== undefined && nowMs - this.lastCheckMs < REVISION_CHECK_INTERVAL_MS)
      return undefined;
    this.lastCheckMs = nowMs;
    return currentRevision - this.config.retention;
  }
}
