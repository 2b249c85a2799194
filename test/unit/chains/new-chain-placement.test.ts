import { describe, expect, it } from 'vitest';
import {
  CHAINS_PER_NODE_LIMIT,
  ChainExistsError,
  ChainLimitError,
  ChainUnavailableError,
  placeNewChain,
} from '../../../src/chains/index.js';
import { chain } from './placement-fixtures.js';

const view = {
  chains: [chain('old', [1, 2])],
  nodes: [1, 2, 3, 4].map((id) => ({ id, healthy: id !== 4 })),
  nowMs: 0,
  gracePeriodMs: 1_000,
};

describe('placeNewChain', () => {
  it('places on the least loaded healthy nodes; the origin leads when it is one of them', () => {
    expect(placeNewChain({ name: 'new', replicaCount: 2, origin: 1 }, view)).toEqual({
      replicas: [3, 1],
      leader: 1,
    });
  });

  it('refuses a taken name (CHAIN_EXISTS) and too few healthy nodes (CHAIN_UNAVAILABLE)', () => {
    expect(() => placeNewChain({ name: 'old', replicaCount: 1 }, view)).toThrow(ChainExistsError);
    expect(() => placeNewChain({ name: 'wide', replicaCount: 4 }, view)).toThrow(ChainUnavailableError);
  });

  it('refuses with CHAIN_LIMIT_REACHED when enough nodes are healthy but too many hold their most chains', () => {
    const full = {
      ...view,
      nodes: [1, 2, 3].map((id) => ({ id, healthy: true, maxChains: id === 3 ? 5 : 1 })),
    };
    expect(placeNewChain({ name: 'fits', replicaCount: 1 }, full)).toEqual({ replicas: [3], leader: 3 });
    const error = (() => {
      try {
        placeNewChain({ name: 'full', replicaCount: 2 }, full);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ChainLimitError);
    expect((error as ChainLimitError).code).toBe('CHAIN_LIMIT_REACHED');
    expect((error as ChainLimitError).details).toEqual({
      limit: CHAINS_PER_NODE_LIMIT,
      name: 'full',
      replicas: 2,
      nodesWithRoom: 1,
      fullNodes: 2,
    });
    expect((error as Error).message).toMatch(/1 healthy nodes have room and 2 more hold their most chains/);
    // Too few healthy nodes at all is still CHAIN_UNAVAILABLE, full ones or not.
    expect(() => placeNewChain({ name: 'wide', replicaCount: 4 }, full)).toThrow(ChainUnavailableError);
  });
});
