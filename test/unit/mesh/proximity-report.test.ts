import { describe, expect, it } from 'vitest';
import type { ProximityMatrix, ProximityMatrixRow } from '../../../src/chains/index.js';
import { rttMatrixTable } from '../../../src/cli/commands/index.js';
import { measuredMatrix, rttReport } from '../../../src/mesh/index.js';

function row(
  node: number,
  fresh: boolean,
  peers: [number, number | undefined, boolean][],
): ProximityMatrixRow {
  return {
    node,
    publishedAtMs: 1_000,
    fresh,
    peers: new Map(
      peers.map(([peer, rttMs, healthy]) => [peer, rttMs === undefined ? { healthy } : { rttMs, healthy }]),
    ),
  };
}

const matrixOf = (...rows: ProximityMatrixRow[]): ProximityMatrix => ({
  rows: new Map(rows.map((entry) => [entry.node, entry])),
});

describe('the RTT matrix as a node reports it', () => {
  it('/mesh/rtt answers rows and peers in id order', () => {
    const report = rttReport(
      7,
      matrixOf(
        row(3, true, [
          [2, 1.5, true],
          [1, undefined, false],
        ]),
        row(1, false, [[3, 0.25, true]]),
      ),
    );
    expect(report).toEqual({
      reporter: 7,
      rows: [
        { node: 1, publishedAtMs: 1_000, fresh: false, peers: [{ node: 3, rttMs: 0.25, healthy: true }] },
        {
          node: 3,
          publishedAtMs: 1_000,
          fresh: true,
          peers: [
            { node: 1, healthy: false },
            { node: 2, rttMs: 1.5, healthy: true },
          ],
        },
      ],
    });
    expect(rttReport(7, undefined)).toEqual({ reporter: 7, rows: [] });
  });

  it('meshos mesh rtt prints one row per node and one column per node seen', () => {
    const { rows } = rttReport(
      7,
      matrixOf(
        row(1, true, [
          [2, 0.44, true],
          [3, undefined, true],
        ]),
        row(2, false, [[1, 0.5, false]]),
      ),
    );
    expect(rttMatrixTable(rows)).toEqual([
      ['FROM\\TO', '1', '2', '3', 'ROW'],
      ['1', '-', '0.4', '?', 'fresh'],
      ['2', 'down', '-', '', 'stale'],
    ]);
  });

  it('chains get the matrix only once this node has published a fresh row with every peer measured', () => {
    const measured = matrixOf(row(1, true, [[2, 0.4, true]]), row(2, true, [[1, undefined, false]]));
    expect(measuredMatrix(1, measured)).toBe(measured);
    expect(measuredMatrix(2, measured)).toBeUndefined();
    expect(measuredMatrix(3, measured)).toBeUndefined();
    expect(measuredMatrix(1, matrixOf(row(1, false, [[2, 0.4, true]])))).toBeUndefined();
  });
});
