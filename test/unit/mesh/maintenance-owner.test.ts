/**
 * The executor's `maintenance` owner over the real executor and an in-process control plane:
 * CommitMaintenanceTransition commits the node's state (completed), the same action again after
 * it finished completes without a write (idempotent), and a step the machine lacks fails with
 * its reason.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ControlPlane, nodeKey, openControlPlane, present } from '../../../src/control/index.js';
import { ManualClock } from '../../../src/lib/index.js';
import { MaintenanceOwner, MaintenanceStore } from '../../../src/mesh/index.js';
import {
  ActionExecutor,
  type ActionOwners,
  type ExecutorEvent,
  type MaintenanceState,
} from '../../../src/reconcile/index.js';
import { rejectionCode } from '../../support/error-code.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';
import { until } from '../../support/until.js';

let clock: ManualClock;
let backend: LocalKvBackend;
let plane: ControlPlane;

beforeEach(async () => {
  clock = new ManualClock();
  backend = new LocalKvBackend({ clock });
  plane = await openControlPlane({ kind: 'in-process', backend, clock });
  await plane.put(nodeKey(4), new TextEncoder().encode('{}'));
});
afterEach(async () => {
  await plane.close();
  backend.close();
});

describe('MaintenanceOwner', () => {
  it('commits CommitMaintenanceTransition once, completes a repeat without a write, fails a missing step', async () => {
    const store = new MaintenanceStore(plane, clock);
    const events: ExecutorEvent[] = [];
    const notMine = { handle: () => undefined };
    const owner = new MaintenanceOwner(store);
    const executor = new ActionExecutor({
      owners: {
        daemons: notMine,
        replicas: notMine,
        placement: notMine,
        blobs: notMine,
        'avoid-list': notMine,
        // As the reconciler wires an owner: resolving completes the action, rejecting fails it.
        maintenance: {
          handle: (pending) => {
            owner.handle(pending).then(
              () => executor.complete(pending.id, clock.nowMs()),
              (error: Error) => executor.fail(pending.id, error.message, clock.nowMs()),
            );
          },
        },
      } satisfies ActionOwners,
      zoneOf: () => 'z',
      onEvent: (event) => events.push(event),
    });
    let nextId = 1;
    const commit = async (target: MaintenanceState): Promise<ExecutorEvent> => {
      const id = nextId++;
      executor.submit(
        [
          {
            id,
            emittedAtMonotonicMs: clock.nowMs(),
            action: { kind: 'CommitMaintenanceTransition', node: 4, target },
          },
        ],
        clock.nowMs(),
      );
      executor.drain(clock.nowMs());
      await until(
        () =>
          events.some((event) => event.id === id && (event.type === 'completed' || event.type === 'failed')),
        `action ${id} answered`,
      );
      return events.find(
        (event) => event.id === id && (event.type === 'completed' || event.type === 'failed'),
      )!;
    };

    await store.enter(4, { deadlineMs: 60_000 });
    const entering: MaintenanceState = {
      phase: 'EnteringMaintenance',
      deadlineWallMs: clock.wallMs() + 60_000,
    };
    expect((await commit(entering)).type).toBe('completed');
    const stored = await store.get(4);
    expect(stored?.record.state).toEqual(entering);
    expect((await commit(entering)).type).toBe('completed');
    expect((await store.get(4))?.modRevision).toBe(stored?.modRevision);
    expect([owner.committed, owner.unchanged]).toEqual([1, 1]);

    const refused = await commit({ phase: 'Active' });
    expect(refused).toMatchObject({
      type: 'failed',
      reason: expect.stringContaining('cannot go from EnteringMaintenance to Active'),
    });
    expect((await store.get(4))?.record.state).toEqual(entering);
    expect(executor.status()).toMatchObject({ completed: 2, failed: 1, inFlight: 0, queued: 0 });
  });

  it("leaves a drain's outcome of a node that is up to its agent, and commits it for a node that is down", async () => {
    const store = new MaintenanceStore(plane, clock);
    let up = true;
    const owner = new MaintenanceOwner(store, { isUp: () => up });
    const commit = (target: MaintenanceState, id: number) =>
      owner.handle({
        id,
        emittedAtMonotonicMs: 0,
        action: { kind: 'CommitMaintenanceTransition', node: 4, target },
      });
    await store.enter(4);
    // Steps other than the outcome are committed for a node that is up.
    await commit({ phase: 'EnteringMaintenance', deadlineWallMs: clock.wallMs() + 1_000 }, 1);
    expect(await rejectionCode(commit({ phase: 'Maintenance' }, 2))).toBe('MAINTENANCE_OUTCOME_BY_NODE');
    expect(await rejectionCode(commit({ phase: 'DrainFailed', reason: 'r' }, 3))).toBe(
      'MAINTENANCE_OUTCOME_BY_NODE',
    );
    expect((await store.get(4))?.record.state.phase).toBe('EnteringMaintenance');
    up = false;
    await commit({ phase: 'DrainFailed', reason: 'drain deadline passed with 1 daemons' }, 4);
    expect((await store.get(4))?.record.state).toEqual({
      phase: 'DrainFailed',
      reason: 'drain deadline passed with 1 daemons',
    });
  });

  it('commits nothing for a reconciler term that ended (its fence fails): MAINTENANCE_WRITE_FENCED', async () => {
    const store = new MaintenanceStore(plane, clock);
    await store.enter(4);
    const before = await store.get(4);
    const ended = { term: { fence: [present('reconciler')] } };
    const action = {
      id: 1,
      emittedAtMonotonicMs: 0,
      action: {
        kind: 'CommitMaintenanceTransition' as const,
        node: 4,
        target: { phase: 'EnteringMaintenance' as const, deadlineWallMs: clock.wallMs() + 1_000 },
      },
    };
    expect(await rejectionCode(new MaintenanceOwner(store).handle(action, ended))).toBe(
      'MAINTENANCE_WRITE_FENCED',
    );
    expect(await store.get(4)).toEqual(before);
  });
});
