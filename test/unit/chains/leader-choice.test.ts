import { describe, expect, it } from 'vitest';
import { elect, winnerOf } from '../../../src/chains/election.js';
import { type ChainLeaderQuestion, chooseChainLeader } from '../../../src/chains/leader-choice.js';
import type { ProximityMatrix, ProximityMatrixRow } from '../../../src/chains/proximity-matrix.js';
import type { NodeId } from '../../../src/lib/index.js';

/** `{from: {to: rttMs}}`, every measured peer healthy, every row fresh, unless told otherwise. */
interface MatrixSpec {
  readonly rtt: Record<number, Record<number, number | undefined>>;
  /** `[from, to]` pairs where `from` reports `to` unhealthy. */
  readonly unhealthy?: readonly (readonly [NodeId, NodeId])[];
  readonly stale?: readonly NodeId[];
}

function matrixOf(spec: MatrixSpec): ProximityMatrix {
  const rows = new Map<NodeId, ProximityMatrixRow>();
  for (const [fromText, peers] of Object.entries(spec.rtt)) {
    const node = Number(fromText);
    const samples = new Map(
      Object.entries(peers).map(([toText, rttMs]) => {
        const to = Number(toText);
        const healthy = !(spec.unhealthy ?? []).some(([a, b]) => a === node && b === to);
        return [to, rttMs === undefined ? { healthy } : { rttMs, healthy }] as const;
      }),
    );
    rows.set(node, { node, publishedAtMs: 0, peers: samples, fresh: !(spec.stale ?? []).includes(node) });
  }
  return { rows };
}

/** Three replicas on a line, 1 -- 2 -- 3, and node 9 (a writer) next to 3. */
function specOfLine(): MatrixSpec['rtt'] {
  return {
    1: { 2: 5, 3: 10, 9: 12 },
    2: { 1: 5, 3: 5, 9: 7 },
    3: { 1: 10, 2: 5, 9: 2 },
    9: { 1: 12, 2: 7, 3: 2 },
  };
}

const line = matrixOf({ rtt: specOfLine() });

const choose = (question: Partial<ChainLeaderQuestion>) =>
  chooseChainLeader({ replicas: [1, 2, 3], matrix: line, ...question });

describe('chooseChainLeader: one evaluation over the shared matrix', () => {
  it('an origin that is a replica leads its own chain', () => {
    expect(choose({ origin: 1 })).toEqual({ kind: 'leader', node: 1, measuredFrom: 1 });
  });

  it('an origin outside the replica set gets its nearest replica', () => {
    expect(choose({ origin: 9 })).toEqual({ kind: 'leader', node: 3, measuredFrom: 9 });
  });

  it('suspects never win, even when nearest or the origin itself', () => {
    expect(choose({ origin: 9, suspects: new Set([3]) })).toEqual({
      kind: 'leader',
      node: 2,
      measuredFrom: 9,
    });
    expect(choose({ origin: 1, suspects: new Set([1]) })).toEqual({
      kind: 'leader',
      node: 2,
      measuredFrom: 1,
    });
    expect(choose({ origin: 1, suspects: new Set([1, 2, 3]) })).toEqual({ kind: 'none' });
  });

  it('a replica without a fresh row of its own is not healthy', () => {
    const matrix = matrixOf({
      rtt: { 1: { 2: 5, 3: 10 }, 2: { 1: 5, 3: 5 }, 3: { 1: 10, 2: 5 } },
      stale: [2],
    });
    expect(chooseChainLeader({ replicas: [2, 3], origin: 1, matrix })).toEqual({
      kind: 'leader',
      node: 3,
      measuredFrom: 1,
    });
  });

  it("the origin's health verdict counts over the others'", () => {
    const matrix = matrixOf({ rtt: specOfLine(), unhealthy: [[9, 3]] });
    expect(chooseChainLeader({ replicas: [1, 2, 3], origin: 9, matrix })).toEqual({
      kind: 'leader',
      node: 2,
      measuredFrom: 9,
    });
  });

  it('the dual winners of independent evaluation become one winner', () => {
    // Leader 5 died (its row is gone); survivors 16, 32, 48 see each other at 5 ms. Each one
    // evaluating elect from its own view names itself (election.test.ts); every proposer
    // evaluating once over the shared matrix names the same replica.
    const matrix = matrixOf({
      rtt: { 16: { 5: 5, 32: 5, 48: 5 }, 32: { 5: 5, 16: 5, 48: 5 }, 48: { 5: 5, 16: 5, 32: 5 } },
      unhealthy: [
        [16, 5],
        [32, 5],
        [48, 5],
      ],
    });
    const replicas = [5, 16, 32, 48];
    const survivors = [16, 32, 48];
    const ownViews = survivors.map((node) =>
      winnerOf(
        elect(
          replicas,
          node,
          (peer) => matrix.rows.get(node)?.peers.get(peer)?.rttMs,
          (peer) => peer !== 5,
        ),
        node,
      ),
    );
    expect(ownViews).toEqual(survivors);
    // The choice takes no "self": whichever survivor proposes, the answer is this one.
    expect(chooseChainLeader({ replicas, origin: 5, matrix, suspects: new Set([5]) })).toEqual({
      kind: 'leader',
      node: 16,
      measuredFrom: 16,
    });
  });

  it('without a fresh origin, the replica with the least total RTT to the others stands in and leads', () => {
    // 2 is in the middle of the line (5 + 5 ms against 10 + 15 and 10 + 5).
    expect(choose({ origin: 7 })).toEqual({ kind: 'leader', node: 2, measuredFrom: 2 });
    expect(choose({})).toEqual({ kind: 'leader', node: 2, measuredFrom: 2 });
    const staleOrigin = matrixOf({ rtt: specOfLine(), stale: [9] });
    expect(chooseChainLeader({ replicas: [1, 2, 3], origin: 9, matrix: staleOrigin })).toEqual({
      kind: 'leader',
      node: 2,
      measuredFrom: 2,
    });
  });

  it('a stand-in with missing samples ranks after every fully measured one, ties by id', () => {
    const matrix = matrixOf({
      rtt: { 1: { 2: 1, 3: undefined }, 2: { 1: 1, 3: 50 }, 3: { 1: undefined, 2: 50 } },
    });
    // 1 is nearest to 2 but has no sample to 3 (nor 3 to 1): 2 is the only fully measured one.
    expect(chooseChainLeader({ replicas: [1, 2, 3], matrix })).toEqual({
      kind: 'leader',
      node: 2,
      measuredFrom: 2,
    });
    const symmetric = matrixOf({ rtt: { 4: { 5: 3 }, 5: { 4: 3 } } });
    expect(chooseChainLeader({ replicas: [5, 4], matrix: symmetric })).toEqual({
      kind: 'leader',
      node: 4,
      measuredFrom: 4,
    });
  });

  it('an origin cut off from every replica leaves the choice to the stand-in', () => {
    const matrix = matrixOf({
      rtt: specOfLine(),
      unhealthy: [
        [9, 1],
        [9, 2],
        [9, 3],
      ],
    });
    expect(chooseChainLeader({ replicas: [1, 2, 3], origin: 9, matrix })).toEqual({
      kind: 'leader',
      node: 2,
      measuredFrom: 2,
    });
  });

  it('without an origin, a replica the majority reports unhealthy is left out', () => {
    const matrix = matrixOf({
      rtt: specOfLine(),
      unhealthy: [
        [1, 2],
        [3, 2],
      ],
    });
    const choice = chooseChainLeader({ replicas: [1, 2, 3], matrix });
    // 2 is left out; 1 and 3 are 10 ms apart, so the smaller id stands in and leads.
    expect(choice).toEqual({ kind: 'leader', node: 1, measuredFrom: 1 });
  });

  it('no replica with a fresh row means no leader', () => {
    const matrix = matrixOf({ rtt: specOfLine(), stale: [1, 2, 3] });
    expect(chooseChainLeader({ replicas: [1, 2, 3], origin: 9, matrix })).toEqual({ kind: 'none' });
  });

  it('the answer does not depend on the order of replicas or rows', () => {
    const reversedRows: ProximityMatrix = { rows: new Map([...line.rows].reverse()) };
    for (const origin of [undefined, 1, 2, 3, 9]) {
      const expected = chooseChainLeader({ replicas: [1, 2, 3], origin, matrix: line });
      expect(chooseChainLeader({ replicas: [3, 1, 2], origin, matrix: reversedRows })).toEqual(expected);
    }
  });
});
