import { describe, expect, it } from 'vitest';
import type { DaemonDefinition } from '../../../src/daemons/types.js';
import { ManualClock } from '../../../src/lib/index.js';
import {
  ACTIVE_LEASE_MARGIN_MS,
  ActiveFence,
  type NodeLease,
} from '../../../src/mesh/daemon-active-fence.js';
import { standbyDefinition } from '../../support/daemon-definition.js';

function definition(epoch: number, active: number): DaemonDefinition {
  return standbyDefinition({ epoch, active });
}

describe('ActiveFence', () => {
  it('holds until the lease it was armed under could expire, less the margin', () => {
    const clock = new ManualClock();
    let lease: NodeLease | undefined = { id: 7, aliveUntilMs: 5_000 };
    const fence = new ActiveFence(clock, () => lease);
    fence.arm(1);
    expect(fence.leaseHolds()).toBe(true);
    clock.advance(5_000 - ACTIVE_LEASE_MARGIN_MS - 1);
    expect(fence.leaseHolds()).toBe(true);
    clock.advance(1);
    expect(fence.leaseHolds()).toBe(false);
    // A renewal of the same lease that answered: it holds again.
    lease = { id: 7, aliveUntilMs: clock.nowMs() + 5_000 };
    expect(fence.leaseHolds()).toBe(true);
    lease = undefined;
    expect(fence.leaseHolds()).toBe(false);
  });

  it('does not hold under a new lease until a definition read under it names the member in the same epoch', () => {
    const clock = new ManualClock();
    let lease: NodeLease = { id: 7, aliveUntilMs: 5_000 };
    const fence = new ActiveFence(clock, () => lease);
    fence.arm(3);
    lease = { id: 8, aliveUntilMs: 10_000 };
    expect(fence.leaseHolds()).toBe(false);
    fence.confirm(definition(3, 0), definition(4, 0), 0);
    expect(fence.leaseHolds()).toBe(false);
    fence.confirm(definition(3, 0), definition(3, 1), 0);
    expect(fence.leaseHolds()).toBe(false);
    fence.confirm(definition(3, 0), definition(3, 0), 0);
    expect(fence.leaseHolds()).toBe(true);
  });

  it('arms once per epoch, and holds without a lease to check', () => {
    const fence = new ActiveFence(new ManualClock());
    expect(fence.isNewEpoch(definition(1, 0))).toBe(true);
    fence.arm(1);
    expect(fence.isNewEpoch(definition(1, 0))).toBe(false);
    expect(fence.isNewEpoch(definition(2, 0))).toBe(true);
    expect(fence.leaseHolds()).toBe(true);
  });
});
