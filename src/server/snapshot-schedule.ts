/**
 * When a node takes its next snapshot. Every member applies the same entries, so with one
 * threshold all of them snapshot at the same index, at the same moment (seen on a 3-member
 * cluster under puts: each snapshot file of the three written within 0.4 s of the others): three
 * encodes and three snapshot-sized file writes at once, on machines that often share disks and
 * cores, while the leader needs a follower's acknowledgement for every commit. A phase per member
 * (a fraction of the interval) puts each member's snapshots at its own indexes, so that while one
 * member snapshots, the others go on at full speed: a follower's snapshot then costs no commit
 * anything, since the leader and the other follower are a quorum.
 */

/** The golden ratio's fraction: multiples of it mod 1 spread evenly for consecutive ids. */
const GOLDEN_FRACTION = 0.6180339887498949;

/** A member's phase in [0, 1) from its id: distinct and far apart for ids 1, 2, 3, ... */
export function snapshotPhaseOf(id: number): number {
  return (id * GOLDEN_FRACTION) % 1;
}

/**
 * Whether a snapshot is due at `appliedIndex`, the last one having been taken at `snapshotIndex`.
 * Without a phase: every `everyEntries` entries after the last one. With one: when the applied
 * index passes the member's next boundary (`k * everyEntries - phase * everyEntries`), at least
 * half an interval after the last snapshot, so snapshots stay `everyEntries` apart on average and
 * never less than half that.
 */
export function snapshotDue(
  appliedIndex: number,
  snapshotIndex: number,
  everyEntries: number,
  phase?: number,
): boolean {
  const since = appliedIndex - snapshotIndex;
  if (phase === undefined) return since >= everyEntries;
  if (since < everyEntries / 2) return false;
  const offset = Math.round(phase * everyEntries);
  return (
    Math.floor((appliedIndex + offset) / everyEntries) > Math.floor((snapshotIndex + offset) / everyEntries)
  );
}
