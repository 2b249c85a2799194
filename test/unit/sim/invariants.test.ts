import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/raft/index.js';
import {
  type DurableLog,
  entryHash,
  InvariantChecker,
  InvariantViolation,
} from '../../../src/sim/invariants.js';

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

/** A durable log holding entries `firstIndex`.. with the given terms (content from index and term). */
function log(terms: number[], firstIndex = 1, snapshotIndex = firstIndex - 1, salt = ''): DurableLog {
  return {
    snapshotIndex,
    firstIndex,
    terms,
    hashes: terms.map((term, offset) =>
      entryHash(entry(firstIndex + offset, term, `${firstIndex + offset}@${term}${salt}`)),
    ),
  };
}

describe('InvariantChecker', () => {
  it('election safety: two leaders in one term', () => {
    const checker = new InvariantChecker();
    checker.onLeader(1, 3);
    checker.onLeader(1, 3);
    checker.onLeader(2, 4);
    const violation = violationOf(() => checker.onLeader(2, 3));
    expect(violation.invariant).toBe('election-safety');
    expect(violation.message).toContain('node=2 term=3');
  });

  it('log matching: same index and term at the end but a different entry before it', () => {
    const checker = new InvariantChecker();
    checker.onDurableLog(1, log([1, 2, 3]));
    const other = log([1, 2, 3]);
    const differentAtTwo = { ...other, hashes: [other.hashes[0]!, 12345, other.hashes[2]!] };
    const violation = violationOf(() => checker.onDurableLog(2, differentAtTwo));
    expect(violation.invariant).toBe('log-matching');
    expect(violation.message).toContain('differs at 2');
  });

  it('log matching accepts diverging suffixes after the last common entry, and compacted prefixes', () => {
    const checker = new InvariantChecker();
    checker.onDurableLog(1, log([1, 1, 3, 3]));
    expect(() => checker.onDurableLog(2, log([1, 1, 2]))).not.toThrow();
    expect(() => checker.onDurableLog(3, log([3, 3], 3, 2))).not.toThrow();
  });

  it('state machine safety: different entries applied at one index', () => {
    const checker = new InvariantChecker();
    checker.onApply(1, entry(1, 1, 'x'), undefined);
    checker.onApply(2, entry(1, 1, 'x'), undefined);
    const violation = violationOf(() => checker.onApply(2, entry(1, 1, 'y'), undefined));
    expect(violation.invariant).toBe('state-machine-safety');
    expect(checker.highestCommitted).toBe(1);
  });

  it('leader completeness: a later leader lacking an entry a leader committed', () => {
    const checker = new InvariantChecker();
    // Node 1 commits index 2 (term 2) as leader of term 4.
    checker.onApply(1, entry(1, 1), 4);
    checker.onApply(1, entry(2, 2), 4);
    const violation = violationOf(() => checker.onLeaderEstablished(2, 5, log([1, 3])));
    expect(violation.invariant).toBe('leader-completeness');
    expect(violation.message).toContain('node=2 term=5 index=2');
  });

  it('leader completeness: an established leader is checked when an older commit becomes known', () => {
    const checker = new InvariantChecker();
    checker.onLeaderEstablished(2, 5, log([2]));
    expect(violationOf(() => checker.onApply(1, entry(1, 1), 3)).invariant).toBe('leader-completeness');
  });

  it('entries committed in the leader own term or later, or inside its snapshot, do not constrain it', () => {
    const checker = new InvariantChecker();
    checker.onApply(1, entry(1, 6), 6);
    checker.onApply(1, entry(2, 1), 4);
    expect(() => checker.onLeaderEstablished(2, 5, log([5], 3, 2))).not.toThrow();
  });
});
