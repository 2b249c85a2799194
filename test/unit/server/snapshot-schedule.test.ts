import { describe, expect, it } from 'vitest';
import { snapshotDue, snapshotPhaseOf } from '../../../src/server/index.js';

/** The indexes at which a member snapshots, applying one entry at a time up to `last`. */
function snapshotIndexes(everyEntries: number, last: number, phase?: number): number[] {
  const taken: number[] = [];
  let snapshotIndex = 0;
  for (let applied = 1; applied <= last; applied++) {
    if (!snapshotDue(applied, snapshotIndex, everyEntries, phase)) continue;
    taken.push(applied);
    snapshotIndex = applied;
  }
  return taken;
}

describe('snapshot schedule', () => {
  it('without a phase, snapshots every interval after the last', () => {
    expect(snapshotIndexes(100, 450)).toEqual([100, 200, 300, 400]);
  });

  it('gives members 1, 2 and 3 phases far apart', () => {
    const phases = [1, 2, 3].map(snapshotPhaseOf).sort();
    for (const phase of phases) expect(phase).toBeGreaterThanOrEqual(0);
    for (const phase of phases) expect(phase).toBeLessThan(1);
    expect(
      Math.min(phases[1]! - phases[0]!, phases[2]! - phases[1]!, 1 + phases[0]! - phases[2]!),
    ).toBeGreaterThan(0.2);
  });

  it('puts each member snapshots at its own indexes, an interval apart, never closer than half of one', () => {
    const every = 1_000;
    const byMember = [1, 2, 3].map((id) => snapshotIndexes(every, 10_000, snapshotPhaseOf(id)));
    for (const taken of byMember) {
      // About one an interval, as without a phase.
      expect(taken.length).toBeGreaterThanOrEqual(9);
      expect(taken.length).toBeLessThanOrEqual(10);
      for (let next = 1; next < taken.length; next++) {
        expect(taken[next]! - taken[next - 1]!).toBeGreaterThanOrEqual(every / 2);
        expect(taken[next]! - taken[next - 1]!).toBeLessThanOrEqual((3 * every) / 2);
      }
    }
    // After the first, no two members snapshot within a fifth of an interval of each other.
    const later = byMember.flatMap((taken) => taken.slice(1)).sort((left, right) => left - right);
    for (let next = 1; next < later.length; next++)
      expect(later[next]! - later[next - 1]!).toBeGreaterThan(every / 5);
  });

  it('keeps a member phase across a restart from its last snapshot', () => {
    const every = 1_000;
    const phase = snapshotPhaseOf(2);
    const straight = snapshotIndexes(every, 6_000, phase);
    // A restart after the third snapshot starts from it: the same indexes follow.
    const restartedFrom = straight[2]!;
    const after: number[] = [];
    let snapshotIndex = restartedFrom;
    for (let applied = restartedFrom + 1; applied <= 6_000; applied++) {
      if (!snapshotDue(applied, snapshotIndex, every, phase)) continue;
      after.push(applied);
      snapshotIndex = applied;
    }
    expect(after).toEqual(straight.slice(3));
  });
});
