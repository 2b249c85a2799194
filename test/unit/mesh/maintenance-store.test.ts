/**
 * `MaintenanceStore` over an in-process control plane: operators' requests with their typed
 * errors (unknown node, bad deadline or ramp-up, exit when not in maintenance, enter after a
 * failed drain), and the owner's commits: idempotent (the same phase again writes nothing), a step
 * the machine lacks refused, and compare-and-swaps that never lose a request or a transition
 * when they race.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ControlPlane,
  KEYSPACE_PREFIXES,
  nodeKey,
  openControlPlane,
} from '../../../src/control/index.js';
import { ManualClock } from '../../../src/lib/index.js';
import { MaintenanceStore } from '../../../src/mesh/index.js';
import {
  DEFAULT_DRAIN_DEADLINE_MS,
  MAX_DRAIN_DEADLINE_MS,
  MAX_RECOVERY_RAMP_UP_MS,
} from '../../../src/reconcile/index.js';
import { rejectionCode } from '../../support/error-code.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';

let clock: ManualClock;
let backend: LocalKvBackend;
let plane: ControlPlane;
let store: MaintenanceStore;

beforeEach(async () => {
  clock = new ManualClock();
  backend = new LocalKvBackend({ clock });
  plane = await openControlPlane({ kind: 'in-process', backend, clock });
  // Nodes 1 and 2 are registered; 3 never was.
  for (const id of [1, 2]) await plane.put(nodeKey(id), new TextEncoder().encode('{}'));
  store = new MaintenanceStore(plane, clock);
});
afterEach(async () => {
  await plane.close();
  backend.close();
});

describe('MaintenanceStore requests', () => {
  it('records an enter with its wall-clock deadline and an exit with its ramp-up', async () => {
    expect(await store.require(1)).toEqual({ node: 1, state: { phase: 'Active' }, changedAtWallMs: 0 });
    const entered = await store.enter(1, { deadlineMs: 30_000 });
    const now = clock.wallMs();
    expect(entered.request).toEqual({
      target: 'maintenance',
      requestedAtWallMs: now,
      deadlineWallMs: now + 30_000,
    });
    expect((await store.get(1))?.record).toEqual(entered);
    // Asked again before its drain started: the new deadline replaces the old one.
    clock.advance(1_000);
    expect((await store.enter(1, { deadlineMs: 5_000 })).request?.deadlineWallMs).toBe(now + 6_000);
    await store.commit(1, { phase: 'EnteringMaintenance', deadlineWallMs: now + 6_000 });
    // Draining: asking again changes nothing.
    const before = await store.get(1);
    await store.enter(1, { deadlineMs: 99_000 });
    expect(await store.get(1)).toEqual(before);
    const exited = await store.exit(1, { rampUpMs: 2_000 });
    expect(exited.request).toEqual({ target: 'active', requestedAtWallMs: now + 1_000, rampUpMs: 2_000 });
    expect(exited.state.phase).toBe('EnteringMaintenance');
  });

  it('refuses bad input with typed errors', async () => {
    expect(await rejectionCode(store.enter(3))).toBe('MAINTENANCE_NODE_UNKNOWN');
    expect(await rejectionCode(store.exit(3))).toBe('MAINTENANCE_NODE_UNKNOWN');
    expect(await rejectionCode(store.require(3))).toBe('MAINTENANCE_NODE_UNKNOWN');
    for (const deadlineMs of [0, -5, 1.5, MAX_DRAIN_DEADLINE_MS + 1, Number.NaN])
      expect(await rejectionCode(store.enter(1, { deadlineMs }))).toBe('MAINTENANCE_DEADLINE_INVALID');
    for (const rampUpMs of [0, 2.5, MAX_RECOVERY_RAMP_UP_MS + 1])
      expect(await rejectionCode(store.exit(1, { rampUpMs }))).toBe('MAINTENANCE_RAMP_UP_INVALID');
    expect(await rejectionCode(store.exit(2))).toBe('MAINTENANCE_NOT_ENTERED');
    // Nothing was written by any of them.
    expect((await plane.range(KEYSPACE_PREFIXES.maintenance)).entries).toEqual([]);
  });

  it('refuses to enter after a failed drain until the node was exited', async () => {
    await store.enter(2);
    await store.commit(2, {
      phase: 'EnteringMaintenance',
      deadlineWallMs: clock.wallMs() + DEFAULT_DRAIN_DEADLINE_MS,
    });
    await store.commit(2, { phase: 'DrainFailed', reason: 'daemon log member 1 (standby): nowhere to go' });
    expect(await rejectionCode(store.enter(2))).toBe('MAINTENANCE_DRAIN_FAILED');
    await store.exit(2);
    await store.commit(2, { phase: 'ExitingMaintenance' });
    await store.commit(2, { phase: 'Recovery', untilWallMs: clock.wallMs() + 1_000 });
    expect((await store.enter(2)).request?.target).toBe('maintenance');
  });
});

describe('MaintenanceStore commits', () => {
  it('commits each step once: the same phase again is a no-op, a missing step is refused', async () => {
    await store.enter(1);
    const entering = { phase: 'EnteringMaintenance', deadlineWallMs: clock.wallMs() + 10_000 } as const;
    expect(await store.commit(1, entering)).toEqual({ state: entering, changed: true });
    const revision = (await store.get(1))?.modRevision;
    // Repeated (a lost answer), even with another deadline: nothing changes.
    expect(await store.commit(1, { ...entering, deadlineWallMs: 1 })).toEqual({
      state: entering,
      changed: false,
    });
    expect((await store.get(1))?.modRevision).toBe(revision);
    expect(await rejectionCode(store.commit(1, { phase: 'Recovery', untilWallMs: 5 }))).toBe(
      'MAINTENANCE_TRANSITION_INVALID',
    );
    clock.advance(500);
    expect(await store.commit(1, { phase: 'Maintenance' })).toEqual({
      state: { phase: 'Maintenance' },
      changed: true,
    });
    expect((await store.get(1))?.record.changedAtWallMs).toBe(clock.wallMs());
  });

  it('loses neither side when commits and requests race', async () => {
    await store.enter(1);
    const entering = { phase: 'EnteringMaintenance', deadlineWallMs: clock.wallMs() + 10_000 } as const;
    const answers = await Promise.all([store.commit(1, entering), store.commit(1, entering), store.exit(1)]);
    expect(
      answers
        .slice(0, 2)
        .map((answer) => (answer as { changed: boolean }).changed)
        .sort(),
    ).toEqual([false, true]);
    const { record } = (await store.get(1))!;
    expect(record.state).toEqual(entering);
    expect(record.request?.target).toBe('active');
  });
});
