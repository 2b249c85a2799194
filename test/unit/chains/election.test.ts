import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ElectionOutcome, elect, winnerOf } from '../../../src/chains/election.js';
import type { NodeId } from '../../../src/lib/index.js';

/** An RTT view from a table of measured peers; peers absent from it have no sample. */
function rtts(table: Record<number, number>): (node: NodeId) => number | undefined {
  return (node) => table[node];
}

function healthyOnly(...nodes: NodeId[]): (node: NodeId) => boolean {
  const healthy = new Set(nodes);
  return (node) => healthy.has(node);
}

const self: ElectionOutcome = { kind: 'self' };
const none: ElectionOutcome = { kind: 'none' };
const peer = (node: NodeId): ElectionOutcome => ({ kind: 'peer', node });

describe('elect: the nearest healthy replica wins', () => {
  it('a lone healthy replica that is the evaluating node wins', () => {
    expect(elect([1], 1, rtts({}), healthyOnly(1))).toEqual(self);
  });

  it('an empty replica set has no winner', () => {
    expect(elect([], 1, rtts({}), healthyOnly(1))).toEqual(none);
  });

  it('an unhealthy evaluating node yields to a healthy peer', () => {
    expect(elect([1, 2], 1, rtts({ 2: 50 }), healthyOnly(2))).toEqual(peer(2));
  });

  it('the evaluating node wins when every peer is unhealthy', () => {
    expect(elect([1, 2, 3], 1, rtts({ 2: 50, 3: 75 }), healthyOnly(1))).toEqual(self);
  });

  it('nobody wins when every replica is unhealthy', () => {
    expect(elect([1, 2, 3], 1, rtts({}), healthyOnly())).toEqual(none);
  });

  it('the evaluating node, at RTT 0, beats peers at any positive RTT', () => {
    expect(elect([1, 2, 3], 1, rtts({ 2: 10, 3: 5 }), healthyOnly(1, 2, 3))).toEqual(self);
  });

  it('from a node outside the set, the peer with the lowest RTT wins', () => {
    const outcome = elect([16, 32, 48], 255, rtts({ 16: 30, 32: 10, 48: 20 }), healthyOnly(16, 32, 48));
    expect(outcome).toEqual(peer(32));
  });

  it('equal RTTs are broken by the smaller node id, whatever the listed order', () => {
    const outcome = elect(
      [204, 170, 187],
      255,
      rtts({ 170: 25, 187: 25, 204: 25 }),
      healthyOnly(170, 187, 204),
    );
    expect(outcome).toEqual(peer(170));
  });

  it('RTT counts before node id', () => {
    expect(elect([170, 187], 255, rtts({ 170: 50, 187: 10 }), healthyOnly(170, 187))).toEqual(peer(187));
  });

  it('a healthy peer without a sample ranks after every measured one but still counts', () => {
    const everyone = healthyOnly(170, 187, 204);
    expect(elect([170, 187, 204], 255, rtts({ 170: 30, 187: 50 }), everyone)).toEqual(peer(170));
    // Measured peers outrank it even when its id is the smallest.
    expect(elect([100, 187], 255, rtts({ 187: 5000 }), healthyOnly(100, 187))).toEqual(peer(187));
  });

  it('with no samples at all, the healthy peer with the smallest id wins', () => {
    expect(elect([187, 170], 255, rtts({}), healthyOnly(170, 187))).toEqual(peer(170));
  });

  it('every order of the replica set gives the same winner', () => {
    const orders: NodeId[][] = [
      [1, 2, 3],
      [3, 2, 1],
      [2, 1, 3],
      [1, 3, 2],
      [3, 1, 2],
      [2, 3, 1],
    ];
    for (const order of orders) {
      expect(elect(order, 255, rtts({ 1: 20, 2: 20, 3: 20 }), healthyOnly(1, 2, 3))).toEqual(peer(1));
    }
  });

  it('a peer measured at RTT 0 ties with the evaluating node, and the smaller id wins', () => {
    expect(elect([5, 16], 5, rtts({ 16: 0 }), healthyOnly(5, 16))).toEqual(self);
    expect(elect([5, 16], 16, rtts({ 5: 0 }), healthyOnly(5, 16))).toEqual(peer(5));
  });

  it('the evaluating node counts only when it is in the replica set', () => {
    // Node 1 is healthy and at RTT 0 from itself, but it holds no copy.
    expect(elect([2, 3], 1, rtts({ 2: 40, 3: 30 }), healthyOnly(1, 2, 3))).toEqual(peer(3));
  });

  it('node ids order numerically, not as text', () => {
    expect(elect([10, 9], 255, rtts({ 9: 7, 10: 7 }), healthyOnly(9, 10))).toEqual(peer(9));
  });

  it('winnerOf names the winner, self included', () => {
    expect(winnerOf(self, 7)).toBe(7);
    expect(winnerOf(peer(170), 7)).toBe(170);
    expect(winnerOf(none, 7)).toBeUndefined();
  });

  it('two sides of a partition, each evaluating its own view, each name themselves', () => {
    // Why chains never let a replica's own evaluation make it leader (docs/CHAINS.md).
    const replicas = [10, 11, 12, 13];
    expect(elect(replicas, 10, rtts({ 11: 5 }), healthyOnly(10, 11))).toEqual(self);
    expect(elect(replicas, 13, rtts({ 12: 5 }), healthyOnly(12, 13))).toEqual(self);
  });

  it("a replica every view measures at RTT 0 is everyone's winner", () => {
    const replicas = [16, 32, 48];
    const fromAnyone = rtts({ 16: 0, 32: 10, 48: 20 });
    const winners = replicas.map((node) =>
      winnerOf(elect(replicas, node, fromAnyone, healthyOnly(...replicas)), node),
    );
    expect(winners).toEqual([16, 16, 16]);
  });

  it('after a symmetric failover, each survivor evaluating alone names itself', () => {
    const dead = 5;
    const survivors = [16, 32, 48];
    const replicas = [dead, ...survivors];
    const selfWinners = survivors.filter(
      (node) =>
        elect(
          replicas,
          node,
          () => 5,
          (candidate) => candidate !== dead,
        ).kind === 'self',
    );
    expect(selfWinners).toEqual(survivors);
  });
});

describe('elect: properties', () => {
  const nodeId = fc.integer({ min: 1, max: 40 });
  const view = fc.record({
    replicas: fc.uniqueArray(nodeId, { maxLength: 8 }),
    self: nodeId,
    rttMs: fc.dictionary(nodeId.map(String), fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined })),
    healthy: fc.uniqueArray(nodeId, { maxLength: 40 }),
  });
  type View = typeof view extends fc.Arbitrary<infer T> ? T : never;

  const run = (input: View, replicas: readonly NodeId[] = input.replicas): ElectionOutcome =>
    elect(replicas, input.self, (node) => input.rttMs[String(node)], healthyOnly(...input.healthy));

  it('the same inputs give the same answer', () => {
    fc.assert(
      fc.property(view, (input) => {
        const again = structuredClone(input);
        expect(run(again)).toEqual(run(input));
      }),
    );
  });

  it('the answer does not depend on the order of the replica set', () => {
    fc.assert(
      fc.property(view, fc.integer(), (input, seed) => {
        const shuffled = shuffle(input.replicas, seed);
        expect(run(input, shuffled)).toEqual(run(input));
      }),
    );
  });

  it('an unhealthy node never wins, and the winner is a member of the set', () => {
    fc.assert(
      fc.property(view, (input) => {
        const winner = winnerOf(run(input), input.self);
        if (winner === undefined) {
          expect(input.replicas.filter((node) => input.healthy.includes(node))).toEqual([]);
          return;
        }
        expect(input.healthy).toContain(winner);
        expect(input.replicas).toContain(winner);
      }),
    );
  });

  it('no healthy replica is nearer than the winner', () => {
    fc.assert(
      fc.property(view, (input) => {
        const winner = winnerOf(run(input), input.self);
        if (winner === undefined) return;
        const distance = (node: NodeId) =>
          node === input.self ? 0 : (input.rttMs[String(node)] ?? Number.POSITIVE_INFINITY);
        for (const node of input.replicas) {
          if (!input.healthy.includes(node)) continue;
          expect(
            distance(node) > distance(winner) || (distance(node) === distance(winner) && node >= winner),
          ).toBe(true);
        }
      }),
    );
  });
});

/** A deterministic Fisher-Yates shuffle driven by a linear congruential sequence. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed >>> 0;
  for (let index = result.length - 1; index > 0; index -= 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other] as T, result[index] as T];
  }
  return result;
}
