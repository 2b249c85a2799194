import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ChainUnavailableError,
  matrixLeaderChoice,
  type ProximityMatrix,
  type ProximityMatrixRow,
  proposeFailover,
} from '../../../src/chains/index.js';
import type { NodeId } from '../../../src/lib/index.js';
import { type ChainPlane, openChainPlane } from './chain-plane.js';

/** Every node's row fresh and every peer healthy, at these RTTs (`{from: {to: rttMs}}`). */
function matrixOf(rtt: Record<number, Record<number, number>>): ProximityMatrix {
  const rows = new Map<NodeId, ProximityMatrixRow>();
  for (const [from, peers] of Object.entries(rtt)) {
    const node = Number(from);
    const samples = new Map(
      Object.entries(peers).map(([to, rttMs]) => [Number(to), { rttMs, healthy: true }]),
    );
    rows.set(node, { node, publishedAtMs: 0, peers: samples, fresh: true });
  }
  return { rows };
}

// Replicas 1, 2, 3 and the writer 9: 3 is nearest to 9, then 2.
const matrix = matrixOf({
  1: { 2: 5, 3: 10, 9: 12 },
  2: { 1: 5, 3: 5, 9: 7 },
  3: { 1: 10, 2: 5, 9: 2 },
  9: { 1: 12, 2: 7, 3: 2 },
});

let env: ChainPlane;
beforeEach(async () => {
  env = await openChainPlane();
});
afterEach(async () => {
  await env.close();
});

describe('proposeFailover', () => {
  it('of proposers racing for one epoch exactly one wins, and all end with the same leader', async () => {
    await env.directory.create({ name: 'c', origin: 9 }, { replicas: [1, 2, 3], leader: 3 });
    const suspects = new Set<NodeId>([3]);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => proposeFailover(env.directory, 'c', suspects, matrix, { epoch: 1 })),
    );
    const won = answers.filter((answer) => answer.outcome === 'won');
    expect(won).toHaveLength(1);
    expect(answers.filter((answer) => answer.outcome === 'lost')).toHaveLength(5);
    const stored = await env.directory.require('c');
    expect(stored.definition).toMatchObject({ epoch: 2, leader: 2 });
    for (const answer of answers) expect(answer.chain).toEqual(stored);
  });

  it('keeps a leader the matrix still names, and fails typed when no replica is eligible', async () => {
    await env.directory.create({ name: 'k', origin: 9 }, { replicas: [1, 2, 3], leader: 3 });
    const kept = await proposeFailover(env.directory, 'k', new Set([1]), matrix);
    expect(kept.outcome).toBe('kept');
    expect(kept.chain.definition.epoch).toBe(1);
    await expect(proposeFailover(env.directory, 'k', new Set([1, 2, 3]), matrix)).rejects.toBeInstanceOf(
      ChainUnavailableError,
    );
  });
});

describe('matrixLeaderChoice', () => {
  it('follows the matrix, and falls back to the origin or smallest id when the matrix names nobody', () => {
    const fromMatrix = matrixLeaderChoice(() => matrix);
    expect(fromMatrix([1, 2, 3], 9, new Set())).toBe(3);
    expect(fromMatrix([1, 2, 3], 9, new Set([3]))).toBe(2);
    const empty = matrixLeaderChoice(() => ({ rows: new Map() }));
    expect(empty([4, 2, 3], 3, new Set())).toBe(3);
    expect(empty([4, 2, 3], 9, new Set([2]))).toBe(3);
    expect(matrixLeaderChoice(() => undefined)([4, 2], undefined, new Set([2, 4]))).toBeUndefined();
  });
});
