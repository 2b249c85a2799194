import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import {
  ACTIVE,
  applyMaintenanceTransition,
  DEFAULT_DRAIN_DEADLINE_MS,
  MAX_DRAIN_REASON_ITEMS,
  type MaintenanceState,
  nextMaintenanceTransition,
  RECOVERY_RAMP_UP_MS,
} from '../../../src/reconcile/index.js';

const EMPTY = { daemons: 0, replicas: 0 };
const BUSY = { daemons: 2, replicas: 1 };
const NOW = 1_700_000_000_000;

describe('maintenance state machine', () => {
  it('walks Active -> EnteringMaintenance -> Maintenance -> ExitingMaintenance -> Recovery -> Active', () => {
    const enter = { node: 4, target: 'maintenance' as const, deadlineWallMs: NOW + 30_000 };
    const exit = { node: 4, target: 'active' as const };
    let state: MaintenanceState = ACTIVE;
    const seen: MaintenanceState[] = [];
    const step = (request: typeof enter | typeof exit, left = EMPTY, now = NOW) => {
      const next = nextMaintenanceTransition(state, request, left, now);
      if (next === undefined) return;
      state = applyMaintenanceTransition(4, state, next);
      seen.push(state);
    };
    step(enter, BUSY);
    expect(state).toEqual({ phase: 'EnteringMaintenance', deadlineWallMs: NOW + 30_000 });
    step(enter, BUSY); // still draining: stays
    expect(seen).toHaveLength(1);
    step(enter);
    step(enter); // drained: stays in Maintenance while maintenance is asked for
    step(exit);
    step(exit, EMPTY, NOW + 1_000);
    step(exit, EMPTY, NOW + 1_000 + RECOVERY_RAMP_UP_MS - 1); // ramping up
    step(exit, EMPTY, NOW + 1_000 + RECOVERY_RAMP_UP_MS);
    expect(seen.map((entry) => entry.phase)).toEqual([
      'EnteringMaintenance',
      'Maintenance',
      'ExitingMaintenance',
      'Recovery',
      'Active',
    ]);
    expect(seen[3]).toEqual({ phase: 'Recovery', untilWallMs: NOW + 1_000 + RECOVERY_RAMP_UP_MS });
  });

  it('keeps the node in Recovery for the ramp-up its exit request asks for', () => {
    const exiting: MaintenanceState = { phase: 'ExitingMaintenance' };
    expect(
      nextMaintenanceTransition(exiting, { node: 1, target: 'active', rampUpMs: 2_500 }, EMPTY, NOW),
    ).toEqual({
      phase: 'Recovery',
      untilWallMs: NOW + 2_500,
    });
  });

  it('gives a request without a deadline the default drain deadline', () => {
    expect(nextMaintenanceTransition(ACTIVE, { node: 1, target: 'maintenance' }, EMPTY, NOW)).toEqual({
      phase: 'EnteringMaintenance',
      deadlineWallMs: NOW + DEFAULT_DRAIN_DEADLINE_MS,
    });
  });

  it('fails a drain that has not finished by its deadline, with what is left as the reason', () => {
    const entering: MaintenanceState = { phase: 'EnteringMaintenance', deadlineWallMs: NOW };
    const request = { node: 1, target: 'maintenance' as const };
    expect(nextMaintenanceTransition(entering, request, BUSY, NOW - 1)).toBeUndefined();
    expect(nextMaintenanceTransition(entering, request, BUSY, NOW)).toEqual({
      phase: 'DrainFailed',
      reason: 'drain deadline passed with 2 daemons and 1 chain replicas still on the node',
    });
    // Named what is left, the first MAX_DRAIN_REASON_ITEMS, then a count.
    const named = Array.from({ length: MAX_DRAIN_REASON_ITEMS + 2 }, (_, index) => `chain c${index}`);
    const many = { daemons: 0, replicas: named.length, left: named };
    expect(nextMaintenanceTransition(entering, request, many, NOW)).toEqual({
      phase: 'DrainFailed',
      reason: `drain deadline passed with 0 daemons and ${named.length} chain replicas still on the node: ${named.slice(0, MAX_DRAIN_REASON_ITEMS).join('; ')}; and 2 more`,
    });
    // Blob copies not yet made elsewhere hold the drain too, and are named in its failure.
    const copies = { daemons: 0, replicas: 0, blobs: 1, left: ['blob b1 (1 of 2 copies on other nodes)'] };
    expect(nextMaintenanceTransition(entering, request, copies, NOW - 1)).toBeUndefined();
    expect(nextMaintenanceTransition(entering, request, copies, NOW)).toEqual({
      phase: 'DrainFailed',
      reason:
        'drain deadline passed with 0 daemons and 0 chain replicas still on the node, and 1 blob copies not yet made elsewhere: blob b1 (1 of 2 copies on other nodes)',
    });
    // A drain that finished exactly at the deadline is not a failure.
    expect(nextMaintenanceTransition(entering, request, EMPTY, NOW)).toEqual({ phase: 'Maintenance' });
    // DrainFailed waits for the operator: only an exit moves it.
    const failed: MaintenanceState = { phase: 'DrainFailed', reason: 'x' };
    expect(nextMaintenanceTransition(failed, request, EMPTY, NOW)).toBeUndefined();
    expect(nextMaintenanceTransition(failed, { node: 1, target: 'active' }, EMPTY, NOW)).toEqual({
      phase: 'ExitingMaintenance',
    });
  });

  it('stays Active without a request and aborts a drain when Active is asked for', () => {
    expect(nextMaintenanceTransition(ACTIVE, undefined, BUSY, NOW)).toBeUndefined();
    const entering: MaintenanceState = { phase: 'EnteringMaintenance', deadlineWallMs: NOW + 1 };
    expect(nextMaintenanceTransition(entering, { node: 1, target: 'active' }, BUSY, NOW)).toEqual({
      phase: 'ExitingMaintenance',
    });
  });

  it('applies a transition to the state it leads to as a no-op, and refuses a step the machine lacks', () => {
    const maintenance: MaintenanceState = { phase: 'Maintenance' };
    expect(applyMaintenanceTransition(1, maintenance, { phase: 'Maintenance' })).toBe(maintenance);
    const entering: MaintenanceState = { phase: 'EnteringMaintenance', deadlineWallMs: 5 };
    expect(applyMaintenanceTransition(1, entering, { phase: 'EnteringMaintenance', deadlineWallMs: 9 })).toBe(
      entering,
    );
    let error: unknown;
    try {
      applyMaintenanceTransition(7, ACTIVE, { phase: 'Maintenance' });
    } catch (caught) {
      error = caught;
    }
    expect(isMeshError(error, 'MAINTENANCE_TRANSITION_INVALID')).toBe(true);
    expect((error as Error).message).toContain('node 7 cannot go from Active to Maintenance');
  });
});
