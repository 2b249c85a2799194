import type { AcksPolicy } from './types.js';

/** Replicas that form a majority of a set of `count`. */
export function majorityOf(count: number): number {
  return Math.floor(count / 2) + 1;
}

/**
 * The commit offset the acks policy allows, from each replica's matched durable end (the leader
 * included; learners never count): its own for `one`, the majority's for `quorum`, the
 * smallest for `all`. Only an offset past `epochStartOffset` counts: until a record of the
 * leader's own epoch is held as the policy asks, records of older epochs are not known to be
 * safe (a later leader could still cut them off), so nothing commits.
 */
export function allowedCommitOffset(
  acks: AcksPolicy,
  selfMatchEnd: number,
  replicaMatchEnds: readonly number[],
  epochStartOffset: number,
): number {
  let candidate: number;
  if (acks === 'one') {
    candidate = selfMatchEnd;
  } else {
    const descending = [...replicaMatchEnds].sort((left, right) => right - left);
    const needed = acks === 'all' ? descending.length : majorityOf(descending.length);
    candidate = descending[needed - 1] ?? 0;
  }
  return candidate > epochStartOffset ? candidate : 0;
}
