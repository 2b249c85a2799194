import { describe, expect, it } from 'vitest';
import {
  busyStretches,
  formatStretches,
  type StretchProfile,
  type StretchProfileNode,
} from '../../../bench/cluster/profile-stretches.js';

const SOURCE = 'file:///repo/dist/src/server/raft-node.js';

function node(id: number, functionName: string, url = '', children: number[] = []): StretchProfileNode {
  return { id, callFrame: { functionName, url, lineNumber: id }, children };
}

// (root) > idle | gc | drain > applyReady | drain > send
const NODES: StretchProfileNode[] = [
  node(1, '(root)', '', [2, 3, 4]),
  node(2, '(idle)'),
  node(3, '(garbage collector)'),
  node(4, 'drain', SOURCE, [5, 6]),
  node(5, 'applyReady', SOURCE),
  node(6, 'send', SOURCE),
];
const IDLE = 2;
const GC = 3;
const APPLY = 5;
const SEND = 6;

/** One sample a millisecond unless told otherwise. */
function profile(samples: number[], deltas?: number[]): StretchProfile {
  return { nodes: NODES, samples, timeDeltas: deltas ?? samples.map(() => 1000), startTime: 5_000_000 };
}

describe('busyStretches', () => {
  it('splits the samples at idle ones and ranks the stretches by their time without GC', () => {
    const samples = [IDLE, APPLY, APPLY, IDLE, SEND, GC, GC, GC, SEND, IDLE, APPLY, APPLY, APPLY, SEND];
    const stretches = busyStretches(profile(samples), { top: 10, stacksPerStretch: 2, minimumMs: 0 });
    expect(stretches.map((stretch) => [stretch.wallMs, stretch.gcMs, stretch.withoutGcMs])).toEqual([
      [4, 0, 4],
      [2, 0, 2],
      [5, 3, 2],
    ]);
    const [first] = stretches;
    expect(first?.offsetSeconds).toBeCloseTo(0.01, 6);
    expect(first?.sampleCount).toBe(4);
    expect(first?.stacks[0]).toEqual({
      name: `drain src/server/raft-node.js:5 > applyReady src/server/raft-node.js:6`,
      ms: 3,
    });
    expect(first?.meshosFunctions.map((entry) => [entry.name, entry.ms])).toEqual([
      ['drain src/server/raft-node.js:5', 4],
      ['applyReady src/server/raft-node.js:6', 3],
      ['send src/server/raft-node.js:7', 1],
    ]);
  });

  it('ranks by time with gaps capped, so a descheduled stretch falls behind one of more work', () => {
    // Interval 1 ms: the 40 ms gap counts as 4 ms, below the six samples of the second stretch.
    const samples = [APPLY, APPLY, IDLE, SEND, SEND, SEND, SEND, SEND, SEND, IDLE, APPLY];
    const deltas = [1000, 40_000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000];
    const stretches = busyStretches(profile(samples, deltas), {
      top: 2,
      stacksPerStretch: 1,
      minimumMs: 1.5,
    });
    expect(
      stretches.map((stretch) => [stretch.cappedWithoutGcMs, stretch.wallMs, stretch.longestGapMs]),
    ).toEqual([
      [6, 6, 1],
      [5, 41, 40],
    ]);
    expect(formatStretches('n1', stretches)).toContain('5.0 ms without GC, gaps capped');
  });

  it('charges nothing to a sample delivered out of order', () => {
    const stretches = busyStretches(profile([APPLY, SEND, APPLY], [1000, -500, 1000]), {
      top: 5,
      stacksPerStretch: 1,
      minimumMs: 0,
    });
    expect(stretches[0]?.wallMs).toBe(2);
  });

  it('keeps only the stretches that start inside the window', () => {
    // Stretches start at 0, 2 and 5 ms (a sample covers the interval before it).
    const samples = [APPLY, APPLY, IDLE, SEND, SEND, IDLE, APPLY, APPLY];
    const deltas = samples.map(() => 1000);
    deltas[0] = 0;
    const window = { top: 5, stacksPerStretch: 1, minimumMs: 0, fromSeconds: 0.002, toSeconds: 0.005 };
    const stretches = busyStretches(profile(samples, deltas), window);
    expect(stretches.map((stretch) => stretch.offsetSeconds)).toEqual([0.002]);
  });
});
