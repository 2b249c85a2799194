/**
 * A promotion's hold on the daemon's chains (docs/DAEMONS.md "Failover"): for each of the
 * daemon's chains whose leader is not healthy and which has the new active's node among its
 * replicas, the compare-and-swap that starts the chain's next epoch with that node as leader (and
 * as origin, since the daemon's appends now come from there). The coordinator commits these in
 * the same control-plane transaction as the promotion, so the new active's node claims its
 * chains at once, instead of after one more round trip per chain; a chain whose own failover
 * proposer got there first fails the compare, and the promotion is tried again without it.
 */
import {
  type ChainDirectory,
  encodeChainDefinition,
  type StoredChain,
  withNextEpoch,
} from '../chains/index.js';
import { type ControlCompare, type ControlTxnOp, chainKey, unchangedSince } from '../control/index.js';
import { daemonChainNames } from '../daemons/chain-names.js';
import type { DaemonDefinition } from '../daemons/types.js';
import type { NodeId } from '../lib/index.js';

export interface ChainTakeover {
  /** The chains that get a new epoch under `leader`. */
  readonly chains: readonly string[];
  readonly compare: readonly ControlCompare[];
  readonly success: readonly ControlTxnOp[];
}

export function chainTakeover(
  chains: readonly StoredChain[],
  leader: NodeId,
  healthy: ReadonlySet<NodeId>,
): ChainTakeover {
  const taken = chains.filter(({ definition }) => {
    const current = definition.leader;
    return (current === undefined || !healthy.has(current)) && definition.replicas.includes(leader);
  });
  return {
    chains: taken.map(({ definition }) => definition.name),
    compare: taken.map(({ definition, modRevision }) =>
      unchangedSince(chainKey(definition.name), modRevision),
    ),
    success: taken.map(({ definition }) => ({
      type: 'put',
      key: chainKey(definition.name),
      value: encodeChainDefinition({ ...withNextEpoch(definition, leader), origin: leader }),
    })),
  };
}

/**
 * The definitions of the daemon's chains (every replica member's, in a replica group) as the
 * control plane holds them (a deleted one left out).
 */
export async function daemonChainDefinitions(
  directory: Pick<ChainDirectory, 'get'>,
  daemon: DaemonDefinition,
): Promise<StoredChain[]> {
  const chains = await Promise.all(daemonChainNames(daemon).map((chain) => directory.get(chain)));
  return chains.filter((chain) => chain !== undefined);
}
