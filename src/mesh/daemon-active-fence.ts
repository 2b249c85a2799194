/**
 * The lease check of an active member (docs/DAEMONS.md "Fencing"). An active takes events only
 * while its node's registration lease is the one it became active (or was last confirmed) under,
 * and that lease is certainly alive: the last successful renewal's send time plus the TTL, less
 * `ACTIVE_LEASE_MARGIN_MS`. So an active cut off from the control plane has stopped before the
 * control plane can expire its node's lease and promote a standby for it, and a paused one checks
 * this first thing on resume. After its node registers again (a new lease) it serves only once a
 * definition read from the control plane still names it in the same epoch (`confirm`).
 */
import { servesEvents } from '../daemons/directory.js';
import type { DaemonDefinition } from '../daemons/types.js';
import type { Clock } from '../lib/index.js';

/**
 * An active stops taking events this long before its node's lease could expire: slack for
 * clocks that run at slightly different rates on the node and on the control plane.
 */
export const ACTIVE_LEASE_MARGIN_MS = 250;

/** The node's registration lease as the active checks it. */
export interface NodeLease {
  readonly id: number;
  readonly aliveUntilMs: number;
}

export class ActiveFence {
  /** The epoch the member last became active in, and the node lease it serves that epoch under. */
  private armedEpoch = 0;
  private servingLeaseId: number | undefined;

  /** `nodeLease` absent: no lease check (a test's nodes without registrations). */
  constructor(
    private readonly clock: Clock,
    private readonly nodeLease?: () => NodeLease | undefined,
  ) {}

  /** Whether `definition`, naming the member active, starts an epoch the fence has not served. */
  isNewEpoch(definition: DaemonDefinition): boolean {
    return definition.epoch > this.armedEpoch;
  }

  /** Serves `epoch` under the node's current lease. */
  arm(epoch: number): void {
    this.armedEpoch = epoch;
    this.servingLeaseId = this.nodeLease?.()?.id;
  }

  /**
   * A definition read after the node registered again: the same epoch naming `index` as a member
   * that takes events (the active, or a replica) re-arms it.
   */
  confirm(current: DaemonDefinition, read: DaemonDefinition, index: number): void {
    if (read.epoch === current.epoch && servesEvents(read, index)) this.arm(read.epoch);
  }

  /** Whether the node's lease lets the member act as the active now. */
  leaseHolds(): boolean {
    if (this.nodeLease === undefined) return true;
    const lease = this.nodeLease();
    return (
      lease !== undefined &&
      lease.id === this.servingLeaseId &&
      this.clock.nowMs() < lease.aliveUntilMs - ACTIVE_LEASE_MARGIN_MS
    );
  }
}
