/**
 * The failover proposer (docs/CHAINS.md "Election", step 3): a replica that lost its leader
 * proposes the next epoch with the leader `chooseChainLeader` names over the shared matrix, the
 * replicas it suspects left out, and commits it only through the definition's compare-and-swap.
 * Proposers racing for one epoch all name it; exactly one wins and the others see its result.
 */
import type { ControlCompare } from '../control/index.js';
import type { NodeId } from '../lib/index.js';
import type { ChainDirectory, NextEpochAnswer } from './directory.js';
import { ChainUnavailableError } from './errors.js';
import { chooseChainLeader } from './leader-choice.js';
import type { PlacementLeaderChoice } from './placement.js';
import { originOrSmallestId } from './placement.js';
import type { ProximityMatrix } from './proximity-matrix.js';
import type { StoredChain } from './stored-chain.js';

export interface FailoverOptions {
  /** The epoch whose leader the proposer lost: once it has passed, the proposal loses at once. */
  readonly epoch?: number;
  readonly fence?: readonly ControlCompare[];
}

/** `kept`: the matrix still names the current leader, so no new epoch was proposed. */
export type FailoverAnswer = NextEpochAnswer | { readonly outcome: 'kept'; readonly chain: StoredChain };

export async function proposeFailover(
  directory: ChainDirectory,
  name: string,
  suspects: ReadonlySet<NodeId>,
  matrix: ProximityMatrix,
  options: FailoverOptions = {},
): Promise<FailoverAnswer> {
  const current = await directory.require(name);
  const { definition } = current;
  if (options.epoch !== undefined && definition.epoch !== options.epoch)
    return { outcome: 'lost', chain: current };
  const choice = chooseChainLeader({
    replicas: definition.replicas,
    ...(definition.origin === undefined ? {} : { origin: definition.origin }),
    matrix,
    suspects,
  });
  if (choice.kind === 'none') throw new ChainUnavailableError(name, 'no healthy replica to lead');
  if (choice.node === definition.leader) return { outcome: 'kept', chain: current };
  return directory.proposeNextEpoch(name, {
    expectedModRevision: current.modRevision,
    leader: choice.node,
    ...(options.fence === undefined ? {} : { fence: options.fence }),
  });
}

/**
 * Placement's leader choice over a matrix: `chooseChainLeader` when the matrix names a leader,
 * else (no fresh rows yet, say) the origin or the smallest id among the eligible replicas.
 */
export function matrixLeaderChoice(matrixOf: () => ProximityMatrix | undefined): PlacementLeaderChoice {
  return (replicas, origin, excluded) => {
    const matrix = matrixOf();
    if (matrix !== undefined) {
      const choice = chooseChainLeader({
        replicas,
        ...(origin === undefined ? {} : { origin }),
        matrix,
        suspects: excluded,
      });
      if (choice.kind === 'leader') return choice.node;
    }
    return originOrSmallestId(replicas, origin, excluded);
  };
}
