import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/raft/index.js';
import { InvariantChecker, InvariantViolation } from '../../../src/sim/index.js';

function entry(index: number, term: number, text = `${index}@${term}`): Entry {
  return { index, term, kind: 'normal', data: new TextEncoder().encode(text) };
}

function violationOf(action: () => void): InvariantViolation {
  try {
    action();
  } catch (error) {
    if (error instanceof InvariantViolation) return error;
    throw error;
  }
  throw new Error('expected an invariant violation');
}

/** A checker whose nodes' durable logs are the given arrays (index i at slot i - 1). */
function checkerWith(logs: Map<number, Entry[]>): InvariantChecker {
  const checker = new InvariantChecker();
  for (const [node, log] of logs) checker.registerNode(node, (index) => log[index - 1]?.term);
  return checker;
}

describe('InvariantChecker', () => {
  it('election safety: two leaders in one term', () => {
    const checker = checkerWith(
      new Map([
        [1, []],
        [2, []],
      ]),
    );
    checker.onLeader(1, 3);
    checker.onLeader(1, 3);
    checker.onLeader(2, 4);
    const violation = violationOf(() => checker.onLeader(2, 3));
    expect(violation.invariant).toBe('election-safety');
    expect(violation.message).toContain('node=2 term=3');
  });

  it('log matching: same index and term but different prefixes', () => {
    const checker = checkerWith(
      new Map([
        [1, []],
        [2, []],
      ]),
    );
    checker.onDurableAppend(1, [entry(1, 1), entry(2, 2, 'x')]);
    checker.onDurableAppend(2, [entry(1, 1)]);
    const violation = violationOf(() => checker.onDurableAppend(2, [entry(2, 2, 'y')]));
    expect(violation.invariant).toBe('log-matching');
    expect(violation.message).toContain('index=2');
  });

  it('log matching accepts a follower whose conflicting suffix is replaced', () => {
    const checker = checkerWith(
      new Map([
        [1, []],
        [2, []],
      ]),
    );
    checker.onDurableAppend(1, [entry(1, 1), entry(2, 3)]);
    checker.onDurableAppend(2, [entry(1, 1), entry(2, 2)]);
    checker.onDurableAppend(2, [entry(2, 3)]);
    expect(() => checker.onDurableAppend(2, [entry(3, 3)])).not.toThrow();
  });

  it('state machine safety: different entries applied at one index', () => {
    const checker = checkerWith(
      new Map([
        [1, []],
        [2, []],
      ]),
    );
    checker.onApply(1, entry(1, 1, 'x'), undefined);
    checker.onApply(2, entry(1, 1, 'x'), undefined);
    const violation = violationOf(() => checker.onApply(2, entry(1, 1, 'y'), undefined));
    expect(violation.invariant).toBe('state-machine-safety');
    expect(checker.highestCommitted).toBe(1);
  });

  it('monotonic commit: may fall back only to the durable commit on restart', () => {
    const checker = checkerWith(new Map([[1, []]]));
    checker.onCommit(1, 5);
    expect(violationOf(() => checker.onCommit(1, 4)).invariant).toBe('monotonic-commit');
    checker.onRestart(1, 3, 3);
    checker.onCommit(1, 4);
    expect(violationOf(() => checker.onRestart(1, 4, 2)).invariant).toBe('monotonic-commit');
  });

  it('leader completeness: a later leader lacking an entry a leader committed', () => {
    const logs = new Map([
      [1, [entry(1, 1), entry(2, 2)]],
      [2, [entry(1, 1), entry(2, 3)]],
    ]);
    const checker = checkerWith(logs);
    // Node 1 commits index 2 (term 2) as leader of term 4.
    checker.onApply(1, entry(1, 1), 4);
    checker.onApply(1, entry(2, 2), 4);
    const violation = violationOf(() => checker.onLeaderEstablished(2, 5));
    expect(violation.invariant).toBe('leader-completeness');
    expect(violation.message).toContain('node=2 term=5 index=2');
  });

  it('leader completeness: an established leader is checked when an older commit becomes known', () => {
    const logs = new Map([
      [1, [entry(1, 1)]],
      [2, [entry(1, 2)]],
    ]);
    const checker = checkerWith(logs);
    checker.onLeaderEstablished(2, 5);
    expect(violationOf(() => checker.onApply(1, entry(1, 1), 3)).invariant).toBe('leader-completeness');
  });

  it('entries committed in the leader own term or later do not constrain it', () => {
    const logs = new Map([
      [1, [entry(1, 6)]],
      [2, [entry(1, 5)]],
    ]);
    const checker = checkerWith(logs);
    checker.onApply(1, entry(1, 6), 6);
    expect(() => checker.onLeaderEstablished(2, 5)).not.toThrow();
  });
});
