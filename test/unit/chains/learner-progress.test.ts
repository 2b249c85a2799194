import { describe, expect, it } from 'vitest';
import {
  LearnerProgressBoard,
  type LearnerStatus,
  StatusLearnerProgress,
} from '../../../src/chains/index.js';
import { chain } from './placement-fixtures.js';

describe('StatusLearnerProgress', () => {
  it("counts a learner caught up once its offset reaches the leader's commit offset, asking only chains with learners", async () => {
    const asked: string[] = [];
    const statuses: Record<string, LearnerStatus> = {
      behind: { commitOffset: 10, epochStartOffset: 6, learners: [{ node: 4, offset: 9 }] },
      level: { commitOffset: 10, epochStartOffset: 6, learners: [{ node: 4, offset: 10 }] },
      // A node the definition no longer names as a learner does not count.
      stale: { commitOffset: 10, epochStartOffset: 6, learners: [{ node: 7, offset: 12 }] },
    };
    const progress = new StatusLearnerProgress(async (name) => {
      asked.push(name);
      if (name === 'down') throw new Error('no leader');
      return statuses[name]!;
    });
    await progress.refresh([
      chain('behind', [1, 2, 3], { learners: [4] }),
      chain('level', [1, 2, 3], { learners: [4] }),
      chain('stale', [1, 2, 3], { learners: [4] }),
      chain('down', [1, 2, 3], { learners: [4] }),
      chain('none', [1, 2, 3]),
    ]);
    expect(asked.sort()).toEqual(['behind', 'down', 'level', 'stale']);
    expect([...progress.caughtUp('level')]).toEqual([4]);
    for (const name of ['behind', 'stale', 'down', 'none']) expect(progress.caughtUp(name).size).toBe(0);
    await progress.refresh([]);
    expect(progress.caughtUp('level').size).toBe(0);
  });

  it("right after a leader change, a learner at the lagging commit offset is not caught up until it reaches the leader's epoch start", async () => {
    // The new leader's commit offset (3) still lags the records committed in the old epoch (up to
    // its marker at 8): they commit only once the marker is on a majority.
    const statuses: Record<string, LearnerStatus> = {
      atCommit: { commitOffset: 3, epochStartOffset: 8, learners: [{ node: 4, offset: 5 }] },
      atMarker: { commitOffset: 3, epochStartOffset: 8, learners: [{ node: 4, offset: 8 }] },
      // Not the leader's own view (its node answered for it): it proves nothing.
      notLeader: { commitOffset: 3, learners: [{ node: 4, offset: 9 }] },
    };
    const progress = new StatusLearnerProgress(async (name) => statuses[name]!);
    await progress.refresh(Object.keys(statuses).map((name) => chain(name, [1, 2, 3], { learners: [4] })));
    expect(progress.caughtUp('atCommit').size).toBe(0);
    expect([...progress.caughtUp('atMarker')]).toEqual([4]);
    expect(progress.caughtUp('notLeader').size).toBe(0);
  });
});

describe('LearnerProgressBoard', () => {
  it('holds reports and tells listeners of each change once', () => {
    const board = new LearnerProgressBoard();
    let changes = 0;
    board.onChange(() => changes++);
    board.report('a', 4, true);
    board.report('a', 4, true);
    expect([...board.caughtUp('a')]).toEqual([4]);
    board.report('a', 4, false);
    expect(board.caughtUp('a').size).toBe(0);
    expect(changes).toBe(2);
  });
});
