/**
 * Leader-local lease deadlines. The replicated state only holds each lease's id, granted TTL and
 * keys; when a lease runs out is decided here, on the leader, and acted on by proposing a revoke
 * through the log. Pure: the caller passes the time. Every node feeds it the lease changes of each
 * apply; only a promoted (leader) lessor tracks deadlines and reports expiries.
 */
import { assert } from '../lib/index.js';
import { KvError, LeaseNotFoundError } from './errors.js';
import { EXPIRED_LEASE_RETRY_MS, MAX_EXPIRED_LEASES_PER_CALL } from './limits.js';
import type { LeaseChanges } from './state-machine.js';
import type { LeaseStatus } from './types.js';

const MILLISECONDS_PER_SECOND = 1000;

interface LeaseDeadline {
  readonly ttlMs: number;
  deadlineMs: number;
}

/** Keepalive sent to a node whose lessor is not the leader's. */
export class NotPrimaryLessorError extends KvError {
  constructor() {
    super('KV_LESSOR_NOT_PRIMARY', 'lease deadlines are kept by the leader only');
  }
}

export class Lessor {
  private readonly deadlines = new Map<number, LeaseDeadline>();
  private primary = false;

  get isPrimary(): boolean {
    return this.primary;
  }

  get size(): number {
    return this.deadlines.size;
  }

  /** Mirrors an apply's lease changes (call on every node, in apply order). */
  observe(changes: LeaseChanges, nowMs: number): void {
    for (const lease of changes.granted) this.grant(lease.id, lease.ttlSeconds, nowMs);
    for (const id of changes.revoked) this.deadlines.delete(id);
  }

  grant(id: number, ttlSeconds: number, nowMs: number): void {
    const ttlMs = ttlSeconds * MILLISECONDS_PER_SECOND;
    this.deadlines.set(id, { ttlMs, deadlineMs: this.primary ? nowMs + ttlMs : Number.POSITIVE_INFINITY });
  }

  revoke(id: number): void {
    this.deadlines.delete(id);
  }

  /** Replaces every lease (after restoring a snapshot). */
  reset(leases: readonly LeaseStatus[], nowMs: number): void {
    this.deadlines.clear();
    for (const lease of leases) this.grant(lease.id, lease.ttlSeconds, nowMs);
  }

  /** Refreshes a lease's deadline; returns its TTL in seconds. */
  keepAlive(id: number, nowMs: number): number {
    if (!this.primary) throw new NotPrimaryLessorError();
    const lease = this.deadlines.get(id);
    if (lease === undefined) throw new LeaseNotFoundError(id);
    lease.deadlineMs = nowMs + lease.ttlMs;
    return lease.ttlMs / MILLISECONDS_PER_SECOND;
  }

  /** Milliseconds left before expiry (the full TTL on a follower, which keeps no deadlines). */
  remainingMs(id: number, nowMs: number): number {
    const lease = this.deadlines.get(id);
    if (lease === undefined) throw new LeaseNotFoundError(id);
    if (!Number.isFinite(lease.deadlineMs)) return lease.ttlMs;
    return Math.max(0, lease.deadlineMs - nowMs);
  }

  /** Whole seconds left, rounded up, as a TTL answer reports them. */
  remainingSeconds(id: number, nowMs: number): number {
    return Math.ceil(this.remainingMs(id, nowMs) / MILLISECONDS_PER_SECOND);
  }

  /**
   * Leases past their deadline, earliest first (ties by id), at most MAX_EXPIRED_LEASES_PER_CALL.
   * Each is reported again only after EXPIRED_LEASE_RETRY_MS, in case its revoke was lost.
   */
  expired(nowMs: number): number[] {
    if (!this.primary) return [];
    const due: [number, number][] = [];
    for (const [id, lease] of this.deadlines) if (lease.deadlineMs <= nowMs) due.push([lease.deadlineMs, id]);
    due.sort((left, right) => left[0] - right[0] || left[1] - right[1]);
    const chosen = due.slice(0, MAX_EXPIRED_LEASES_PER_CALL).map(([, id]) => id);
    for (const id of chosen)
      (this.deadlines.get(id) as LeaseDeadline).deadlineMs = nowMs + EXPIRED_LEASE_RETRY_MS;
    return chosen;
  }

  /**
   * Becomes the deadline keeper. Clients could not reach a leader during the election, so every
   * lease gets its full TTL plus `extendMs` from now.
   */
  promote(nowMs: number, extendMs: number): void {
    assert(extendMs >= 0, 'promote: extendMs must be >= 0');
    this.primary = true;
    for (const lease of this.deadlines.values()) lease.deadlineMs = nowMs + extendMs + lease.ttlMs;
  }

  /** Stops keeping deadlines (this node is no longer leader). */
  demote(): void {
    this.primary = false;
    for (const lease of this.deadlines.values()) lease.deadlineMs = Number.POSITIVE_INFINITY;
  }
}
