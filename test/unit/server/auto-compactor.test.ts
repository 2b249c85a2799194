import { describe, expect, it } from 'vitest';
import { ManualClock, ValidationError } from '../../../src/lib/index.js';
import { parseAutoCompaction } from '../../../src/mesh/index.js';
import {
  AutoCompactionPolicy,
  AutoCompactor,
  type CompactionTarget,
  LEADER_DUTY_INTERVAL_MS,
  MAX_COMPACTION_STEP_RECORDS,
  REVISION_CHECK_INTERVAL_MS,
} from '../../../src/server/index.js';

/** A store written at a steady rate as a ManualClock advances: one record per revision. */
class SteadyStore implements CompactionTarget {
  revision = 1;
  compacted = 0;
  readonly compactions: number[] = [];
  failNext = false;

  readonly currentRevision = (): number => this.revision;
  readonly compactRevision = (): number => this.compacted;
  readonly stepTowards = (target: number, maxRecords: number): number =>
    Math.min(target, this.compacted + maxRecords);
  readonly compact = async (revision: number): Promise<void> => {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('leader changed');
    }
    if (revision <= this.compacted || revision > this.revision)
      throw new Error(`bad compaction to ${revision}`);
    this.compactions.push(revision);
    this.compacted = revision;
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs leader duty turns every LEADER_DUTY_INTERVAL_MS for `durationMs`, writing `perTurn` revisions each. */
async function run(
  clock: ManualClock,
  store: SteadyStore,
  compactor: AutoCompactor,
  durationMs: number,
  perTurn: number,
): Promise<void> {
  for (let elapsed = 0; elapsed < durationMs; elapsed += LEADER_DUTY_INTERVAL_MS) {
    clock.advance(LEADER_DUTY_INTERVAL_MS);
    store.revision += perTurn;
    compactor.turn(clock.nowMs());
    for (let round = 0; round < 4; round++) await settle();
  }
}

describe('periodic auto-compaction policy', () => {
  it('compacts to the revision sampled one retention ago, sampling every tenth of the retention', () => {
    const clock = new ManualClock();
    const policy = new AutoCompactionPolicy({ mode: 'periodic', retention: 10_000 });
    expect(policy.sampleIntervalMs).toBe(1_000);
    const revisionAt = (ms: number): number => 1 + ms / 10; // 100 revisions a second
    let compacted = 0;
    const targets: Array<[number, number]> = [];
    for (let step = 0; step <= 130; step++) {
      const target = policy.target(clock.nowMs(), revisionAt(clock.nowMs()), compacted);
      if (target !== undefined) {
        targets.push([clock.nowMs(), target]);
        compacted = target;
      }
      clock.advance(100);
    }
    // Nothing before a full retention has passed; then one target per sample, one retention behind.
    expect(targets[0]).toEqual([10_000, revisionAt(0)]);
    expect(targets[1]).toEqual([11_000, revisionAt(1_000)]);
    expect(targets.at(-1)).toEqual([13_000, revisionAt(3_000)]);
    expect(targets).toHaveLength(4);
  });

  it('starts over after a reset (a new leader waits a full retention) and is off with retention 0', () => {
    const policy = new AutoCompactionPolicy({ mode: 'periodic', retention: 1_000 });
    expect(policy.target(0, 10, 0)).toBeUndefined();
    policy.reset();
    expect(policy.target(1_000, 20, 0)).toBeUndefined();
    expect(policy.target(2_000, 30, 0)).toBe(20);
    const off = new AutoCompactionPolicy({ mode: 'periodic', retention: 0 });
    expect(off.enabled).toBe(false);
    expect(off.target(1_000_000, 1_000, 0)).toBeUndefined();
  });

  it('bounds the sample interval by the named limits', () => {
    expect(new AutoCompactionPolicy({ mode: 'periodic', retention: 10 }).sampleIntervalMs).toBe(100);
    const day = 24 * 60 * 60 * 1000;
    expect(new AutoCompactionPolicy({ mode: 'periodic', retention: day }).sampleIntervalMs).toBe(
      60 * 60 * 1000,
    );
    // A long retention still compacts: samples are kept for the whole retention.
    const policy = new AutoCompactionPolicy({ mode: 'periodic', retention: day });
    let target: number | undefined;
    for (let hour = 0; hour <= 25 && target === undefined; hour++)
      target = policy.target(hour * 3_600_000, 1 + hour, 0);
    expect(target).toBe(1);
  });
});

describe('revision auto-compaction policy', () => {
  it('keeps the last N revisions, checked every REVISION_CHECK_INTERVAL_MS', () => {
    const policy = new AutoCompactionPolicy({ mode: 'revision', retention: 1_000 });
    expect(policy.target(0, 500, 0)).toBeUndefined();
    expect(policy.target(REVISION_CHECK_INTERVAL_MS, 5_000, 0)).toBe(4_000);
    expect(policy.target(REVISION_CHECK_INTERVAL_MS + 1, 9_000, 4_000)).toBeUndefined();
    expect(policy.target(2 * REVISION_CHECK_INTERVAL_MS, 9_000, 4_000)).toBe(8_000);
  });
});

describe('AutoCompactor', () => {
  it('keeps the retained history bounded under a steady write rate, in bounded steps', async () => {
    const clock = new ManualClock();
    const store = new SteadyStore();
    const compactor = new AutoCompactor({ mode: 'revision', retention: 50_000 }, store);
    const perTurn = 2_500; // 25,000 revisions a second
    await run(clock, store, compactor, 60_000, perTurn);
    expect(store.compactions.length).toBeGreaterThan(0);
    let previous = 0;
    for (const revision of store.compactions) {
      expect(revision - previous).toBeLessThanOrEqual(MAX_COMPACTION_STEP_RECORDS);
      previous = revision;
    }
    // At most the retention plus one check interval's writes are kept.
    const perCheck = (REVISION_CHECK_INTERVAL_MS / LEADER_DUTY_INTERVAL_MS) * perTurn;
    expect(store.revision - store.compacted).toBeLessThanOrEqual(50_000 + perCheck);
    expect(store.compacted).toBeGreaterThan(store.revision - 50_000 - perCheck);
    expect(compactor.counters.steps).toBe(store.compactions.length);
  });

  it('retries after a failed step on a later turn, and forgets its target when reset', async () => {
    const clock = new ManualClock();
    const store = new SteadyStore();
    const compactor = new AutoCompactor({ mode: 'periodic', retention: 1_000 }, store);
    store.failNext = true;
    // The first sample (t=100) falls due one retention later, at t=1100.
    await run(clock, store, compactor, 1_100, 10);
    expect(compactor.counters.failedSteps).toBe(1);
    expect(store.compacted).toBe(0);
    await run(clock, store, compactor, 100, 10);
    const compacted = store.compacted;
    expect(compacted).toBeGreaterThan(0);
    compactor.reset();
    await run(clock, store, compactor, 1_000, 10);
    expect(store.compacted).toBe(compacted);
    await run(clock, store, compactor, 200, 10);
    expect(store.compacted).toBeGreaterThan(compacted);
  });
});

describe('auto-compaction flags', () => {
  it('reads durations as etcd does and revision counts as whole numbers', () => {
    expect(parseAutoCompaction('periodic', '5m')).toEqual({ mode: 'periodic', retention: 300_000 });
    expect(parseAutoCompaction('periodic', '30s')).toEqual({ mode: 'periodic', retention: 30_000 });
    expect(parseAutoCompaction('periodic', '1')).toEqual({ mode: 'periodic', retention: 3_600_000 });
    expect(parseAutoCompaction('periodic', '1.5h')).toEqual({ mode: 'periodic', retention: 5_400_000 });
    expect(parseAutoCompaction('revision', '10000')).toEqual({ mode: 'revision', retention: 10_000 });
    expect(parseAutoCompaction('periodic', '0')).toBeUndefined();
    expect(() => parseAutoCompaction('revision', '5m')).toThrow(ValidationError);
    expect(() => parseAutoCompaction('periodic', 'soon')).toThrow(/duration like 30s/);
    expect(() => parseAutoCompaction('hourly', '1h')).toThrow(/'periodic' or 'revision'/);
  });
});
