/**
 * The chains side of the reconcile service over an in-process control plane: the `placement`
 * owner carries out the two replacement steps (a learner added; a replica replaced by a caught-up
 * learner) as fenced compare-and-swaps, each idempotent, refused for a stale term; the followed
 * state hands reconcile the chains' members, leaders and each node's replicas with their lag.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChainDirectory, type StatusLearnerProgress } from '../../../src/chains/index.js';
import { type ControlPlane, openControlPlane, RECONCILER_KEY } from '../../../src/control/index.js';
import { type NodeId, SystemClock } from '../../../src/lib/index.js';
import { ReconcileChains } from '../../../src/mesh/reconcile-chains.js';
import { placementOwner, replicasOwner } from '../../../src/mesh/reconcile-chains-owner.js';
import type { ReconcileTerm } from '../../../src/mesh/reconcile-hub.js';
import type { PendingAction, ReconcileAction } from '../../../src/reconcile/index.js';
import { rejectionCode } from '../../support/error-code.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';
import { until } from '../../support/until.js';

const clock = new SystemClock();
let backend: LocalKvBackend;
let plane: ControlPlane;
let directory: ChainDirectory;
let term: ReconcileTerm;
const caughtUp = new Map<string, Set<NodeId>>();

beforeEach(async () => {
  backend = new LocalKvBackend({ clock });
  plane = await openControlPlane({ kind: 'in-process', backend, clock });
  directory = new ChainDirectory(plane, { clock });
  caughtUp.clear();
  const lease = await plane.grantLease(60);
  const answer = await plane.put(RECONCILER_KEY, new TextEncoder().encode('{}'), { lease: lease.id });
  term = {
    holder: 1,
    epoch: answer.revision,
    fence: [{ key: RECONCILER_KEY, target: 'createRevision', operator: '=', operand: answer.revision }],
  };
});

afterEach(async () => {
  await plane.close();
  backend.close();
});

let nextId = 1;
function pending(action: ReconcileAction): PendingAction {
  return { id: nextId++, emittedAtMonotonicMs: 0, action };
}

const dispatch = () => ({ term, signal: new AbortController().signal });
const owner = () => placementOwner({ directory, caughtUp: (chain) => caughtUp.get(chain) ?? new Set() });

describe('the placement owner', () => {
  it('adds the target as a learner once, then replaces the victim with it when it caught up', async () => {
    await directory.create({ name: 'log' }, { replicas: [1, 2, 3], leader: 1 });
    const place = pending({
      kind: 'RequestPlacement',
      chain: 'log',
      leader: 1,
      exclude: [1, 2, 3],
      target: 4,
    });
    await owner().handle(place, dispatch());
    await owner().handle(place, dispatch());
    const added = (await directory.get('log'))!;
    expect(added.definition.learners).toEqual([4]);

    const evict = pending({ kind: 'RequestEviction', chain: 'log', leader: 1, victim: 3 });
    expect(await rejectionCode(owner().handle(evict, dispatch()))).toBe('RECONCILE_ACTION_REFUSED');
    expect((await directory.get('log'))!.modRevision).toBe(added.modRevision);
    caughtUp.set('log', new Set([4]));
    await owner().handle(evict, dispatch());
    await owner().handle(evict, dispatch());
    const replaced = (await directory.get('log'))!.definition;
    expect(replaced.replicas).toEqual([1, 2, 4]);
    expect(replaced.learners ?? []).toEqual([]);
    expect(replaced.epoch).toBe(added.definition.epoch + 1);
  });

  it('removes a learner asked to be evicted', async () => {
    await directory.create({ name: 'log' }, { replicas: [1, 2, 3], leader: 1 });
    await directory.addLearner('log', 4);
    await owner().handle(
      pending({ kind: 'RequestEviction', chain: 'log', leader: 1, victim: 4 }),
      dispatch(),
    );
    expect((await directory.get('log'))!.definition.learners ?? []).toEqual([]);
  });

  it("refuses a stale term's change", async () => {
    await directory.create({ name: 'log' }, { replicas: [1, 2, 3], leader: 1 });
    const stale: ReconcileTerm = {
      ...term,
      fence: [{ key: RECONCILER_KEY, target: 'createRevision', operator: '=', operand: term.epoch - 1 }],
    };
    const place = pending({
      kind: 'RequestPlacement',
      chain: 'log',
      leader: 1,
      exclude: [1, 2, 3],
      target: 4,
    });
    expect(
      await rejectionCode(owner().handle(place, { term: stale, signal: new AbortController().signal })),
    ).toBe('RECONCILE_TERM_FENCED');
    expect((await directory.get('log'))!.definition.learners).toBeUndefined();
  });

  it('leaves pulls and drops to the chain hosts', async () => {
    await replicasOwner.handle(
      pending({ kind: 'PullReplica', chain: 'log', node: 4, source: 1 }),
      dispatch(),
    );
    expect(
      await rejectionCode(
        replicasOwner.handle(pending({ kind: 'ReduceHeat', blob: 'b', by: 1 }), dispatch()),
      ),
    ).toBe('RECONCILE_ACTION_REFUSED');
  });
});

describe('the chains state', () => {
  it("gives reconcile the members, the leader and each node's replicas, a learner behind until it caught up", async () => {
    await directory.create({ name: 'log' }, { replicas: [1, 2, 3], leader: 1 });
    await directory.addLearner('log', 4);
    let progressCaughtUp = new Set<NodeId>();
    const progress = {
      caughtUp: () => progressCaughtUp,
      refresh: async () => {},
      onChange: () => () => {},
    } as unknown as StatusLearnerProgress;
    const chains = new ReconcileChains({ directory, progress, clock, onChange: () => {}, onError: () => {} });
    try {
      await until(() => chains.loaded, 'the chains listed');
      const before = chains.input();
      expect(before.chains).toEqual([{ name: 'log', members: [1, 2, 3, 4], leader: 1 }]);
      expect(before.specs).toEqual([{ name: 'log', replicas: 3 }]);
      expect(before.replicasOn.get(4)).toEqual([{ chain: 'log', lagRecords: 1 }]);
      expect(before.replicasOn.get(2)).toEqual([{ chain: 'log', lagRecords: 0 }]);
      progressCaughtUp = new Set([4]);
      expect(chains.input().replicasOn.get(4)).toEqual([{ chain: 'log', lagRecords: 0 }]);
    } finally {
      chains.stop();
    }
  });
});
