/**
 * The daemon's chains follow its active (docs/DAEMONS.md "Failover", "Move"): for each chain
 * of the daemon not led by the active's node and which has that node among its replicas, the
 * compare-and-swap that starts the chain's next epoch with that node as leader (and as origin,
 * since the daemon's appends come from there, and the chains' own failover prefers the origin).
 * A promotion and a move's cutover commit these in the same control-plane transaction as the new
 * definition, so the new active's node claims its chains at once (instead of after the chains'
 * own failover, or never when that elected another node) and its appends do not pay a hop to
 * another node. The chain's epoch change is the chains' own fencing: the old leader's epoch
 * ends, the new leader claims the next one on a majority, never two leaders in one epoch. A
 * chain changed meanwhile (its own failover came first) fails the compare, and the caller
 * reads the chains again.
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

/** Nothing to take over: a transaction's compares and writes left as they are. */
export const NO_CHAIN_TAKEOVER: ChainTakeover = Object.freeze({ chains: [], compare: [], success: [] });

export function chainTakeover(chains: readonly StoredChain[], leader: NodeId): ChainTakeover {
  const taken = chains.filter(
    ({ definition }) => definition.leader !== leader && definition.replicas.includes(leader),
  );
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
