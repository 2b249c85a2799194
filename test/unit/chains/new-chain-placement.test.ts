import { describe, expect, it } from 'vitest';
import { ChainExistsError, ChainUnavailableError, placeNewChain } from '../../../src/chains/index.js';
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
});
