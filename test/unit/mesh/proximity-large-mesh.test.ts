/**
 * The RTT matrix of a 40-node mesh, past the 33 nodes up to which every node dials every other:
 * each node's row holds the peers it measures (`nodesToMeasure`: dialed both ways), so pairs
 * dialed one way only are absent rather than unhealthy. Leader choice over it: an unmeasured
 * replica ranks after the measured ones and is never taken for unhealthy; a dead node is.
 */
import { describe, expect, it } from 'vitest';
import {
  chooseChainLeader,
  type ProximityMatrix,
  type ProximityMatrixRow,
} from '../../../src/chains/index.js';
import type { NodeId } from '../../../src/lib/index.js';
import { MAX_DIALED_NODES, measuredMatrix, nodesToDial, nodesToMeasure } from '../../../src/mesh/index.js';

const NODES = Array.from({ length: 40 }, (_, index) => index + 1);
/** Nodes on a line: the RTT between two is their distance, so every answer can be worked out. */
const rttBetween = (a: NodeId, b: NodeId): number => Math.abs(a - b);

/** Every node's row as it would publish it, `dead` nodes stale and reported unhealthy by their peers. */
function meshMatrix(dead: ReadonlySet<NodeId> = new Set()): ProximityMatrix {
  const rows = new Map<NodeId, ProximityMatrixRow>();
  for (const node of NODES) {
    const peers = new Map(
      nodesToMeasure(node, NODES).map((peer) => [
        peer,
        dead.has(peer)
          ? { rttMs: rttBetween(node, peer), healthy: false }
          : { rttMs: rttBetween(node, peer), healthy: true },
      ]),
    );
    rows.set(node, { node, publishedAtMs: 0, peers, fresh: !dead.has(node) });
  }
  return { rows };
}

/** Every third triple of nodes: enough replica sets to meet every kind of pair. */
function replicaSets(): NodeId[][] {
  const sets: NodeId[][] = [];
  let index = 0;
  for (const a of NODES)
    for (const b of NODES)
      for (const c of NODES) if (a < b && b < c && index++ % 37 === 0) sets.push([a, b, c]);
  return sets;
}

/** What `elect` from `origin` must answer: itself, else the nearest measured replica, else the smallest id. */
function expectedLeader(matrix: ProximityMatrix, origin: NodeId, replicas: readonly NodeId[]): NodeId {
  if (replicas.includes(origin)) return origin;
  const row = matrix.rows.get(origin)!;
  const measured = replicas.filter((node) => row.peers.has(node));
  const ranked = (measured.length > 0 ? measured : replicas)
    .map((node) => ({ node, rtt: measured.length > 0 ? rttBetween(origin, node) : 0 }))
    .sort((a, b) => a.rtt - b.rtt || a.node - b.node);
  return ranked[0]!.node;
}

describe('the proximity matrix of a 40-node mesh', () => {
  const matrix = meshMatrix();

  it('holds the pairs dialed both ways, symmetric, and no pair dialed one way only', () => {
    let unmeasuredPairs = 0;
    for (const node of NODES) {
      const row = matrix.rows.get(node)!;
      for (const peer of NODES) {
        if (peer === node) continue;
        const mutual = nodesToDial(node, NODES).includes(peer) && nodesToDial(peer, NODES).includes(node);
        expect(row.peers.has(peer)).toBe(mutual);
        expect(matrix.rows.get(peer)!.peers.has(node)).toBe(row.peers.has(peer));
        if (!row.peers.has(peer)) unmeasuredPairs += 1;
      }
      // Every peer in a row answers, so each node soon uses the matrix (not the membership view).
      expect(measuredMatrix(node, matrix)).toBe(matrix);
      expect(row.peers.size).toBeLessThanOrEqual(MAX_DIALED_NODES);
    }
    expect(unmeasuredPairs).toBeGreaterThan(0);
  });

  it('chooses from every origin the leader elect gives, unmeasured replicas ranked last, never excluded', () => {
    let unmeasuredOnly = 0;
    for (const replicas of replicaSets()) {
      for (const origin of NODES) {
        const choice = chooseChainLeader({ replicas, origin, matrix });
        expect(choice).toEqual({
          kind: 'leader',
          node: expectedLeader(matrix, origin, replicas),
          measuredFrom: origin,
        });
        const row = matrix.rows.get(origin)!;
        if (!replicas.includes(origin) && replicas.every((node) => !row.peers.has(node))) unmeasuredOnly += 1;
      }
    }
    // Some origins measure none of a chain's replicas: they still get a leader.
    expect(unmeasuredOnly).toBeGreaterThan(0);
  });

  it('never takes a replica for unhealthy because a node does not measure it: losing the leader leaves two choices', () => {
    for (const replicas of replicaSets()) {
      for (const origin of [1, 20, 40]) {
        const first = chooseChainLeader({ replicas, origin, matrix });
        if (first.kind !== 'leader') throw new Error('no leader');
        const second = chooseChainLeader({ replicas, origin, matrix, suspects: new Set([first.node]) });
        if (second.kind !== 'leader') throw new Error('no second leader');
        const third = chooseChainLeader({
          replicas,
          origin,
          matrix,
          suspects: new Set([first.node, second.node]),
        });
        expect(new Set([first.node, second.node, third.kind === 'leader' ? third.node : 0])).toEqual(
          new Set(replicas),
        );
      }
    }
  });

  it('never chooses a dead node (stale row, reported unhealthy by those that measure it), from any origin', () => {
    const dead = new Set([7, 21]);
    const withDead = meshMatrix(dead);
    for (const replicas of replicaSets()) {
      const alive = replicas.filter((node) => !dead.has(node));
      for (const origin of NODES) {
        const choice = chooseChainLeader({ replicas, origin, matrix: withDead });
        if (alive.length === 0) {
          expect(choice).toEqual({ kind: 'none' });
          continue;
        }
        if (choice.kind !== 'leader') throw new Error(`no leader for ${replicas} from ${origin}`);
        expect(alive).toContain(choice.node);
      }
    }
  });
});
