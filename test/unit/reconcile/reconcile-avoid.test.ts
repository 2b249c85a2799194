import { describe, expect, it } from 'vitest';
import { SLOW_PEER_AVOID_TTL_MS, SLOW_PEER_RTT_MS } from '../../../src/reconcile/index.js';
import {
  actionsOf,
  desiredOf,
  NOW,
  nodes,
  observedNode,
  observedOf,
  pass,
} from '../../support/reconcile/builders.js';

/** Every node measures every other at 1 ms, except to node `slow` at `slowRttMs`. */
function rttRows(count: number, slow: number, slowRttMs: number) {
  const rows = [];
  for (let from = 1; from <= count; from++) {
    for (let to = 1; to <= count; to++) {
      if (from !== to) rows.push({ from, to, rttMs: to === slow ? slowRttMs : 1 });
    }
  }
  return rows;
}

describe('reconcile: avoid list', () => {
  it('avoids a peer whose median RTT from the others reached the slow threshold', () => {
    const observed = observedOf({ nodes: nodes(4), rtt: rttRows(4, 3, SLOW_PEER_RTT_MS) });
    expect(actionsOf(pass(observed, desiredOf()))).toEqual([
      {
        kind: 'MarkAvoid',
        peer: 3,
        reason: `median RTT ${SLOW_PEER_RTT_MS} ms from 3 peers (slow from ${SLOW_PEER_RTT_MS} ms)`,
        ttlMs: SLOW_PEER_AVOID_TTL_MS,
      },
    ]);
    const justBelow = observedOf({ nodes: nodes(4), rtt: rttRows(4, 3, SLOW_PEER_RTT_MS - 1) });
    expect(pass(justBelow, desiredOf()).actions).toEqual([]);
  });

  it('avoids only the slow peers when they are most of the mesh, though every RTT to or from them is slow', () => {
    const slow = new Set([1, 2, 4, 5]);
    const rtt = [];
    for (let from = 1; from <= 7; from++) {
      for (let to = 1; to <= 7; to++) {
        if (from !== to) rtt.push({ from, to, rttMs: slow.has(from) || slow.has(to) ? 400 : 1 });
      }
    }
    const marked = actionsOf(pass(observedOf({ nodes: nodes(7), rtt }), desiredOf())).map((action) =>
      action.kind === 'MarkAvoid' ? action.peer : undefined,
    );
    expect(marked).toEqual([1, 2, 4, 5]);
  });

  it('does not mark a peer already avoided, and marks it again once its entry expired', () => {
    const avoid = [{ node: 3, reason: 'slow', untilWallMs: NOW.wallMs + 10 }];
    const observed = observedOf({ nodes: nodes(4), rtt: rttRows(4, 3, 900), avoid });
    expect(pass(observed, desiredOf()).actions).toEqual([]);
    const expired = { monotonicMs: NOW.monotonicMs + 10, wallMs: NOW.wallMs + 10 };
    expect(actionsOf(pass(observed, desiredOf(), expired)).map((action) => action.kind)).toEqual([
      'MarkAvoid',
    ]);
  });

  it("marks an operator's request until its time, once, and leaves a node already avoided as long alone", () => {
    const request = { node: 2, reason: 'disk swap', untilWallMs: NOW.wallMs + 20_000 };
    const observed = observedOf({ nodes: nodes(3) });
    const desired = desiredOf({ avoid: [request] });
    const result = pass(observed, desired);
    expect(actionsOf(result)).toEqual([
      { kind: 'MarkAvoid', peer: 2, reason: 'operator: disk swap', ttlMs: 20_000 },
    ]);
    // Pending counts as done: asked again, nothing new.
    expect(pass({ ...observed, pending: result.actions }, desired).actions).toEqual([]);
    // An entry lasting as long (another node's clock: up to a second less) is the request marked.
    const marked = observedOf({
      nodes: nodes(3),
      avoid: [{ ...request, untilWallMs: request.untilWallMs - 500 }],
    });
    expect(pass(marked, desired).actions).toEqual([]);
    // A shorter entry (a slow-peer mark) does not stand for it; an expired request asks nothing.
    const shorter = observedOf({ nodes: nodes(3), avoid: [{ ...request, untilWallMs: NOW.wallMs + 5_000 }] });
    expect(actionsOf(pass(shorter, desired)).map((action) => action.kind)).toEqual(['MarkAvoid']);
    const later = { monotonicMs: NOW.monotonicMs + 20_000, wallMs: NOW.wallMs + 20_000 };
    expect(pass(observed, desired, later).actions).toEqual([]);
  });

  it('keeps a node ramping up after maintenance avoided until its ramp-up ends', () => {
    const recovering = observedNode(2, {
      maintenance: { phase: 'Recovery', untilWallMs: NOW.wallMs + 30_000 },
    });
    const observed = observedOf({ nodes: [observedNode(1), recovering] });
    expect(actionsOf(pass(observed, desiredOf({ maintenance: [{ node: 2, target: 'active' }] })))).toEqual([
      { kind: 'MarkAvoid', peer: 2, reason: 'ramping up after maintenance', ttlMs: 30_000 },
    ]);
  });
});
