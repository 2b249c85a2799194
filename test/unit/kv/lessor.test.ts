import { describe, expect, it } from 'vitest';
import {
  EXPIRED_LEASE_RETRY_MS,
  LeaseNotFoundError,
  Lessor,
  NotPrimaryLessorError,
} from '../../../src/kv/index.js';
import { Harness } from './helpers.js';

describe('Lessor', () => {
  it('reports nothing as expired on a follower', () => {
    const lessor = new Lessor();
    lessor.grant(1, 5, 0);
    expect(lessor.expired(1_000_000)).toEqual([]);
    expect(() => lessor.keepAlive(1, 0)).toThrow(NotPrimaryLessorError);
    expect(lessor.remainingSeconds(1, 0)).toBe(5);
  });

  it('expires leases at their deadline, earliest first, and keepalive pushes the deadline', () => {
    const lessor = new Lessor();
    lessor.promote(0, 0);
    lessor.grant(1, 10, 0);
    lessor.grant(2, 5, 0);
    lessor.grant(3, 5, 0);
    expect(lessor.expired(4_999)).toEqual([]);
    expect(lessor.keepAlive(3, 4_000)).toBe(5);
    expect(lessor.expired(5_000)).toEqual([2]);
    lessor.revoke(2); // its revoke committed
    expect(lessor.remainingSeconds(3, 5_000)).toBe(4);
    expect(lessor.expired(9_000)).toEqual([3]);
    expect(() => lessor.keepAlive(9, 0)).toThrow(LeaseNotFoundError);
  });

  it('reports an expired lease again only after the retry delay, until it is revoked', () => {
    const lessor = new Lessor();
    lessor.promote(0, 0);
    lessor.grant(1, 2, 0);
    expect(lessor.expired(2_000)).toEqual([1]);
    expect(lessor.expired(2_001)).toEqual([]);
    expect(lessor.expired(2_000 + EXPIRED_LEASE_RETRY_MS)).toEqual([1]);
    lessor.revoke(1);
    expect(lessor.expired(100_000)).toEqual([]);
  });

  it('extends every deadline by the TTL plus extendMs on promotion', () => {
    const lessor = new Lessor();
    lessor.grant(1, 3, 0);
    lessor.grant(2, 10, 0);
    lessor.promote(50_000, 1_000);
    expect(lessor.remainingMs(1, 50_000)).toBe(4_000);
    expect(lessor.expired(53_999)).toEqual([]);
    expect(lessor.expired(54_000)).toEqual([1]);
    lessor.demote();
    expect(lessor.expired(1_000_000)).toEqual([]);
  });

  it('follows the lease changes of applies, and expiry drives a committed revoke', () => {
    const harness = new Harness();
    const lessor = new Lessor();
    lessor.promote(0, 0);
    lessor.observe(harness.run({ type: 'leaseGrant', id: 0, ttlSeconds: 3 }).leases, 0);
    harness.put('owned', 'x', 1);
    const [expired] = lessor.expired(3_000);
    expect(expired).toBe(1);
    const outcome = harness.run({ type: 'leaseRevoke', id: expired as number });
    lessor.observe(outcome.leases, 3_000);
    expect(lessor.size).toBe(0);
    expect(harness.get('owned')).toBeUndefined();
  });

  it('rebuilds from the state machine lease list after a restore', () => {
    const harness = new Harness();
    harness.run({ type: 'leaseGrant', id: 4, ttlSeconds: 7 });
    const lessor = new Lessor();
    lessor.reset(harness.machine.leaseList(), 0);
    lessor.promote(0, 0);
    expect(lessor.remainingSeconds(4, 0)).toBe(7);
  });
});
