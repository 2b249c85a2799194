/**
 * The mesh's placement of a new chain over its membership view: each node's chain limit comes
 * from its record's `capacity.chains` (`--capacity chains=N`), and a create that finds enough
 * healthy nodes but too few with room fails with CHAIN_LIMIT_REACHED.
 */
import { describe, expect, it } from 'vitest';
import { ChainLimitError, ChainUnavailableError } from '../../../src/chains/index.js';
import { ManualClock, type NodeId } from '../../../src/lib/index.js';
import {
  CHAINS_CAPACITY_RESOURCE,
  chainLimitOf,
  membershipMatrix,
  meshChainPlacer,
} from '../../../src/mesh/chain-placement.js';
import type { MembershipView } from '../../../src/mesh/index.js';
import { chain } from '../chains/placement-fixtures.js';

/** A view with these nodes alive, each with the capacity given. */
function viewOf(capacities: Record<NodeId, Record<string, number>>): MembershipView {
  const nodes = Object.entries(capacities).map(([id, capacity]) => ({
    health: 'alive',
    record: { id: Number(id), capacity },
  }));
  return { nodes: () => nodes } as unknown as MembershipView;
}

function placerOver(view: MembershipView) {
  return meshChainPlacer(
    () => view,
    () => membershipMatrix(view),
    new ManualClock(),
    60_000,
  );
}

describe("a node's chain limit in the mesh", () => {
  it('is its capacity.chains, or none stated', () => {
    expect(CHAINS_CAPACITY_RESOURCE).toBe('chains');
    expect(chainLimitOf({ capacity: { cpus: 4, chains: 7 } })).toEqual({ maxChains: 7 });
    expect(chainLimitOf({ capacity: { cpus: 4 } })).toEqual({});
  });

  it('places on nodes with room only, and refuses with CHAIN_LIMIT_REACHED when too few have room', async () => {
    const view = viewOf({ 1: { chains: 1 }, 2: { chains: 1 }, 3: { chains: 2 } });
    const place = placerOver(view);
    const existing = [chain('a', [1, 3])];
    expect(await place({ name: 'b', replicaCount: 2, origin: 2, existing })).toEqual({
      replicas: [2, 3],
      leader: 2,
    });
    const full = [...existing, chain('b', [2, 3])];
    await expect(place({ name: 'c', replicaCount: 1, origin: 1, existing: full })).rejects.toBeInstanceOf(
      ChainLimitError,
    );
    // Fewer nodes than replicas is not a limit: CHAIN_UNAVAILABLE, as before.
    await expect(place({ name: 'd', replicaCount: 4, origin: 1, existing: [] })).rejects.toBeInstanceOf(
      ChainUnavailableError,
    );
  });
});
