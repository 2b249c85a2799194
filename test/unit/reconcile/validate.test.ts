import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import {
  ActionIds,
  MAX_DAEMON_MEMBERS,
  type ReconcileInputError,
  reconcile,
  validateReconcileInput,
} from '../../../src/reconcile/index.js';
import { desiredOf, NOW, observedNode, observedOf } from '../../support/reconcile/builders.js';

function problemsOf(run: () => void) {
  try {
    run();
  } catch (error) {
    if (!isMeshError(error, 'RECONCILE_INPUT_INVALID')) throw error;
    return (error as ReconcileInputError).problems.map((problem) => `${problem.code} ${problem.path}`);
  }
  throw new Error('expected RECONCILE_INPUT_INVALID');
}

describe('reconcile input validation', () => {
  it('accepts a well-formed input', () => {
    const observed = observedOf({
      nodes: [observedNode(1)],
      chains: [{ name: 'c', members: [1], leader: 1 }],
    });
    expect(() =>
      validateReconcileInput(observed, desiredOf({ chains: [{ name: 'c', replicas: 1 }] }), NOW),
    ).not.toThrow();
  });

  it('reports every problem at once, each with its own stable code and path', () => {
    const observed = observedOf({
      nodes: [
        observedNode(1, { load: 2, capacity: { daemons: -1, chains: 1 } }),
        observedNode(1),
        observedNode(2, { replicas: [{ chain: 'c', lagRecords: -3 }] }),
      ],
      chains: [{ name: 'c', members: [1, 9], leader: 7 }],
      blobs: [{ id: '', holders: [1], heat: 0 }],
      rtt: [{ from: 1, to: 8, rttMs: Number.NaN }],
      avoid: [{ node: 6, reason: 'x', untilWallMs: Number.POSITIVE_INFINITY }],
    });
    const desired = desiredOf({
      daemons: [
        { name: 'd', members: -1 },
        { name: 'd', members: MAX_DAEMON_MEMBERS + 1 },
      ],
      chains: [{ name: 'c', replicas: 1.5 }],
      maintenance: [{ node: 5, target: 'maintenance', rampUpMs: -1 }],
    });
    expect(
      problemsOf(() => reconcile(observed, desired, { monotonicMs: Number.NaN, wallMs: 0 }, new ActionIds())),
    ).toEqual([
      'INVALID_TIME time.monotonicMs',
      'INVALID_COUNT observed.nodes[0].capacity.daemons',
      'INVALID_VALUE observed.nodes[0].load',
      'DUPLICATE_ENTRY observed.nodes[1].id',
      'INVALID_COUNT observed.nodes[2].replicas[0].lagRecords',
      'UNKNOWN_NODE observed.chains[0].members[1]',
      'UNKNOWN_NODE observed.chains[0].leader',
      'INVALID_VALUE observed.chains[0].leader',
      'INVALID_NAME observed.blobs[0].id',
      'UNKNOWN_NODE observed.rtt[0].to',
      'INVALID_VALUE observed.rtt[0].rttMs',
      'UNKNOWN_NODE observed.avoid[0].node',
      'INVALID_TIME observed.avoid[0].untilWallMs',
      'INVALID_COUNT desired.daemons[0].members',
      'DUPLICATE_ENTRY desired.daemons[1]',
      'INVALID_COUNT desired.daemons[1].members',
      'INVALID_COUNT desired.chains[0].replicas',
      'UNKNOWN_NODE desired.maintenance[0].node',
      'INVALID_TIME desired.maintenance[0].rampUpMs',
    ]);
  });

  it('refuses crash times out of order and a pending action on an unknown node', () => {
    const observed = observedOf({
      nodes: [observedNode(1, { daemons: [{ name: 'd', running: false, crashTimesWallMs: [5, 3] }] })],
      pending: [{ id: 1, emittedAtMonotonicMs: 0, action: { kind: 'StartDaemon', daemon: 'd', node: 4 } }],
    });
    expect(problemsOf(() => validateReconcileInput(observed, desiredOf(), NOW))).toEqual([
      'INVALID_TIME observed.nodes[0].daemons[0].crashTimesWallMs[1]',
      'UNKNOWN_NODE observed.pending[0].action',
    ]);
  });
});
