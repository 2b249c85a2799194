/**
 * Chooses a chain's leader from the shared RTT matrix: one evaluation of `elect` from the chain's
 * origin, so every proposer looking at the same matrix names the same replica (docs/CHAINS.md
 * "Election"). The winner still becomes leader only through the definition's compare-and-swap.
 */
import type { NodeId } from '../lib/index.js';
import { elect, winnerOf } from './election.js';
import type { ProximityMatrix, ProximityMatrixRow } from './proximity-matrix.js';

export interface ChainLeaderQuestion {
  readonly replicas: readonly NodeId[];
  /** Where the chain's appends come from; need not be a replica. */
  readonly origin?: NodeId | undefined;
  readonly matrix: ProximityMatrix;
  /** Replicas the proposer will not choose (for example the leader it lost). */
  readonly suspects?: ReadonlySet<NodeId>;
}

/**
 * The chosen leader and the node the distances were measured from (the origin, or the replica
 * standing in for it), or no leader when no replica is healthy.
 */
export type ChainLeaderChoice =
  | { readonly kind: 'leader'; readonly node: NodeId; readonly measuredFrom: NodeId }
  | { readonly kind: 'none' };

/**
 * A replica is healthy when it has a fresh row of its own (it is alive and publishing), is not
 * suspected, and is reported healthy: by the origin's row when the origin is fresh and has
 * measured it, otherwise by a strict majority of the other fresh rows that report on it. When the
 * origin has no fresh row, the healthy replica with the fewest missing samples to the other
 * healthy replicas, then the least total RTT to them, then the smallest id, stands in for it; so
 * it does too when the origin's row finds no healthy replica (the origin is cut off from them).
 */
export function chooseChainLeader(question: ChainLeaderQuestion): ChainLeaderChoice {
  const { origin, matrix } = question;
  const originRow = origin === undefined ? undefined : freshRow(matrix, origin);
  const fromOrigin = originRow === undefined ? undefined : chooseFrom(question, originRow);
  // An origin cut off from every replica says none is healthy: the others' view decides then.
  return fromOrigin ?? chooseFrom(question, undefined) ?? { kind: 'none' };
}

function chooseFrom(
  question: ChainLeaderQuestion,
  originRow: ProximityMatrixRow | undefined,
): ChainLeaderChoice | undefined {
  const { replicas, matrix } = question;
  const suspects = question.suspects ?? new Set<NodeId>();
  const isHealthy = (node: NodeId): boolean =>
    !suspects.has(node) && isReportedHealthy(matrix, node, originRow);
  const measuredFrom = originRow?.node ?? standIn(replicas.filter(isHealthy), matrix);
  if (measuredFrom === undefined) return undefined;
  const fromRow = freshRow(matrix, measuredFrom);
  const outcome = elect(replicas, measuredFrom, (node) => fromRow?.peers.get(node)?.rttMs, isHealthy);
  const winner = winnerOf(outcome, measuredFrom);
  return winner === undefined ? undefined : { kind: 'leader', node: winner, measuredFrom };
}

function freshRow(matrix: ProximityMatrix, node: NodeId): ProximityMatrixRow | undefined {
  const row = matrix.rows.get(node);
  return row?.fresh === true ? row : undefined;
}

function isReportedHealthy(
  matrix: ProximityMatrix,
  node: NodeId,
  originRow: ProximityMatrixRow | undefined,
): boolean {
  if (freshRow(matrix, node) === undefined) return false;
  if (originRow !== undefined) {
    if (originRow.node === node) return true;
    const verdict = originRow.peers.get(node)?.healthy;
    if (verdict !== undefined) return verdict;
  }
  let reports = 0;
  let healthyReports = 0;
  for (const row of matrix.rows.values()) {
    if (!row.fresh || row.node === node) continue;
    const sample = row.peers.get(node);
    if (sample === undefined) continue;
    reports += 1;
    if (sample.healthy) healthyReports += 1;
  }
  // A node nobody else reports on (a mesh of one, or pings not started) is taken at its own row.
  return reports === 0 || healthyReports * 2 > reports;
}

interface StandInRank {
  readonly node: NodeId;
  readonly missingSamples: number;
  readonly totalRttMs: number;
}

/** The healthy replica most central to the others, by its own row (theirs when it lacks one). */
function standIn(healthy: readonly NodeId[], matrix: ProximityMatrix): NodeId | undefined {
  let best: StandInRank | undefined;
  for (const node of healthy) {
    let missingSamples = 0;
    let totalRttMs = 0;
    for (const other of healthy) {
      if (other === node) continue;
      const rttMs = rttBetween(matrix, node, other);
      if (rttMs === undefined) missingSamples += 1;
      else totalRttMs += rttMs;
    }
    const rank: StandInRank = { node, missingSamples, totalRttMs };
    if (best === undefined || standsBefore(rank, best)) best = rank;
  }
  return best?.node;
}

function rttBetween(matrix: ProximityMatrix, from: NodeId, to: NodeId): number | undefined {
  return freshRow(matrix, from)?.peers.get(to)?.rttMs ?? freshRow(matrix, to)?.peers.get(from)?.rttMs;
}

function standsBefore(a: StandInRank, b: StandInRank): boolean {
  if (a.missingSamples !== b.missingSamples) return a.missingSamples < b.missingSamples;
  if (a.totalRttMs !== b.totalRttMs) return a.totalRttMs < b.totalRttMs;
  return a.node < b.node;
}
