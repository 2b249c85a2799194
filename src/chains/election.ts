/**
 * Nearest-RTT election (docs/CHAINS.md "Election"): among the healthy replicas, the one nearest
 * to the evaluating node wins. Pure: the caller supplies the RTT and health views. Evaluated by
 * each replica from its own view it can name two winners (every view puts itself at RTT 0), so
 * the chains layer evaluates it once over the shared matrix (`chooseChainLeader`) and commits the
 * winner by compare-and-swap; it is never a licence to lead on its own.
 */
import type { NodeId } from '../lib/index.js';

/** The evaluating node won, another replica won, or no replica is healthy. */
export type ElectionOutcome =
  | { readonly kind: 'self' }
  | { readonly kind: 'peer'; readonly node: NodeId }
  | { readonly kind: 'none' };

interface Candidate {
  readonly node: NodeId;
  readonly rttMs: number;
}

/**
 * Chooses the healthy replica nearest to `self`: sorted by RTT, then by node id. `self` (when it
 * is a healthy replica) is at RTT 0. A healthy replica with no RTT sample (`rttOf` answers
 * undefined) ranks after every measured one rather than being left out: health already says it
 * is alive, and leaving it out would leave a chain without a leader when samples are missing.
 */
export function elect(
  replicas: readonly NodeId[],
  self: NodeId,
  rttOf: (node: NodeId) => number | undefined,
  isHealthy: (node: NodeId) => boolean,
): ElectionOutcome {
  let best: Candidate | undefined;
  for (const node of replicas) {
    if (!isHealthy(node)) continue;
    const candidate: Candidate = { node, rttMs: node === self ? 0 : rankedRttMs(rttOf(node)) };
    if (best === undefined || ranksBefore(candidate, best)) best = candidate;
  }
  if (best === undefined) return { kind: 'none' };
  return best.node === self ? { kind: 'self' } : { kind: 'peer', node: best.node };
}

/** The winning node, naming `self` when the evaluating node won; undefined when nobody did. */
export function winnerOf(outcome: ElectionOutcome, self: NodeId): NodeId | undefined {
  switch (outcome.kind) {
    case 'self':
      return self;
    case 'peer':
      return outcome.node;
    case 'none':
      return undefined;
  }
}

/** A missing or unusable sample ranks as the worst possible RTT. */
function rankedRttMs(rttMs: number | undefined): number {
  return rttMs === undefined || Number.isNaN(rttMs) ? Number.POSITIVE_INFINITY : Math.max(0, rttMs);
}

function ranksBefore(a: Candidate, b: Candidate): boolean {
  return a.rttMs !== b.rttMs ? a.rttMs < b.rttMs : a.node < b.node;
}
