import { describe, expect, it } from 'vitest';
import { allowedCommitOffset } from '../../../src/chains/replica-commit.js';
import { agreementGuess, epochAt, nextProbeOffset } from '../../../src/chains/replica-epochs.js';

// Log A: epoch 1 at 0-4, epoch 3 at 5-9 (end 10). Log B: epoch 1 at 0-6, epoch 2 at 7-8 (end 9).
const historyA = [
  { epoch: 1, offset: 0 },
  { epoch: 3, offset: 5 },
];
const historyB = [
  { epoch: 1, offset: 0 },
  { epoch: 2, offset: 7 },
];

describe('epoch histories', () => {
  it('epochAt reads the step function, 0 before the first epoch', () => {
    expect(epochAt([], 4)).toBe(0);
    expect([0, 4, 5, 9].map((offset) => epochAt(historyA, offset))).toEqual([1, 1, 3, 3]);
  });

  it('agreementGuess finds where two logs last agree from the other’s history tail', () => {
    expect(agreementGuess(historyA, 10, historyB, 9)).toBe(5);
    expect(agreementGuess(historyB, 9, historyA, 10)).toBe(5);
    expect(agreementGuess(historyA, 10, historyA, 7)).toBe(7);
    // A tail that starts after the divergence gives no answer past its start.
    expect(agreementGuess(historyA, 10, [{ epoch: 2, offset: 7 }], 9)).toBe(7);
  });

  it('nextProbeOffset skips past our records of the conflicting epoch, or to its start in the other log', () => {
    // B refused an append of A's at 8 (A's record 7 is epoch 3, B's is epoch 2 from offset 7).
    expect(nextProbeOffset(historyA, 10, 8, { conflictEpoch: 2, resumeOffset: 7 })).toBe(7);
    // A refused B's fetch at 9 (B's record 8 is epoch 2; A's is epoch 3 from offset 5): B holds
    // no epoch 3, so it tries the start of epoch 3 in A.
    expect(nextProbeOffset(historyB, 9, 9, { conflictEpoch: 3, resumeOffset: 5 })).toBe(5);
    // A gap: the other log ends at 4.
    expect(nextProbeOffset(historyA, 10, 8, { conflictEpoch: 0, resumeOffset: 4 })).toBe(4);
    // The other side holds an epoch we also hold: past our records of it, below the probe.
    expect(nextProbeOffset(historyA, 10, 6, { conflictEpoch: 1, resumeOffset: 0 })).toBe(5);
  });
});

describe('the commit rule', () => {
  it('takes the policy’s offset, but only once it covers a record of the leader’s epoch', () => {
    expect(allowedCommitOffset('quorum', 10, [10, 7, 3], 5)).toBe(7);
    expect(allowedCommitOffset('all', 10, [10, 7, 3], 2)).toBe(3);
    expect(allowedCommitOffset('one', 10, [10, 0, 0], 5)).toBe(10);
    // A majority holds records up to 5 but not the marker at 5: nothing commits yet.
    expect(allowedCommitOffset('quorum', 9, [9, 5, 4], 5)).toBe(0);
    expect(allowedCommitOffset('quorum', 9, [9, 6, 4], 5)).toBe(6);
    expect(allowedCommitOffset('quorum', 5, [5, 6, 6, 2, 1], 4)).toBe(5);
  });
});
