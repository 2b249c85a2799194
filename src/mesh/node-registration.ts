import {
  ControlClosedError,
  type ControlPlane,
  encodeRecord,
  type LeaseKeepAlive,
  type LeaseLoss,
  nodeKey,
} from '../control/index.js';
import { type Clock, isMeshError, type Logger, type Random, type TimerId } from '../lib/index.js';
import { reconnectDelayMs } from '../transport/index.js';
import { type NodeRecord, validateNodeRecord } from './node-record.js';

/** Bounds of the pause between failed registration attempts (no leader yet, control plane down). */
export const REGISTRATION_RETRY_MIN_MS = 100;
export const REGISTRATION_RETRY_MAX_MS = 2_000;
/**
 * How long a stopping node waits for its lease's revocation. A control plane that does not
 * answer in time (no quorum, unreachable) must not hold the stop up: the lease then expires.
 */
export const REVOKE_ON_STOP_TIMEOUT_MS = 2_000;

/** The pause before attempt `failedAttempts + 1` to register or to list the nodes. */
export function registrationRetryDelayMs(failedAttempts: number, random: Random): number {
  return reconnectDelayMs(failedAttempts, random, REGISTRATION_RETRY_MIN_MS, REGISTRATION_RETRY_MAX_MS);
}

export interface NodeRegistrationOptions {
  readonly plane: ControlPlane;
  readonly record: NodeRecord;
  readonly leaseTtlSeconds: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
}

/**
 * Keeps this node's record under `nodes/<id>` on a lease it keeps alive. A node whose lease
 * expires is gone from the mesh; when the keep-alive loses the lease (a partition longer than
 * the TTL, a control plane that lost it) the node registers again with a new lease, so it comes
 * back as soon as it can reach the control plane. `stop()` revokes the lease: a clean leave is
 * seen at once rather than a TTL later.
 */
export class NodeRegistration {
  private keepAlive: LeaseKeepAlive | undefined;
  private retryTimer: TimerId | undefined;
  private failedAttempts = 0;
  private stopped = false;
  private registering: Promise<void> | undefined;
  /**
   * The lease of a registration that completed after `stop()` began: not renewed, and not
   * revoked either (that would delete the record the next registration takes over), unless
   * the node leaves.
   */
  private unrenewedLeaseId: number | undefined;
  private readonly registeredListeners: (() => void)[] = [];
  /** Successful registrations: 1 after the first, one more per re-registration. */
  registrations = 0;
  /** Leases the keep-alive lost. */
  leaseLosses = 0;
  /** The last failure to register, if the latest attempt failed. */
  lastError: Error | undefined;

  constructor(private readonly options: NodeRegistrationOptions) {
    validateNodeRecord(options.record);
  }

  get record(): NodeRecord {
    return this.options.record;
  }

  /** The lease the record is under, while registered. */
  get leaseId(): number | undefined {
    return this.keepAlive?.leaseId;
  }

  /** The lease the record is under and until when it is certainly alive, while registered. */
  get lease(): { readonly id: number; readonly aliveUntilMs: number } | undefined {
    const keepAlive = this.keepAlive;
    return keepAlive === undefined
      ? undefined
      : { id: keepAlive.leaseId, aliveUntilMs: keepAlive.aliveUntilMs };
  }

  get isRegistered(): boolean {
    return this.keepAlive !== undefined;
  }

  /** Registers now and keeps trying until it succeeds (or `stop()`). */
  start(): void {
    this.attempt();
  }

  /** Calls `listener` after every successful registration; returns an unsubscribe. */
  onRegistered(listener: () => void): () => void {
    this.registeredListeners.push(listener);
    return () => {
      const index = this.registeredListeners.indexOf(listener);
      if (index >= 0) this.registeredListeners.splice(index, 1);
    };
  }

  /**
   * Stops renewing the lease without revoking it: the record stays until the lease expires, or
   * until the next registration of this node (a restarted service) takes the key over.
   */
  async stop(): Promise<void> {
    await this.halt();
  }

  /**
   * Leaves the mesh: stops renewing and revokes the lease, which deletes the record at once.
   * Bounded by REVOKE_ON_STOP_TIMEOUT_MS; past it the lease expires by itself.
   */
  async leave(): Promise<void> {
    const leaseId = await this.halt();
    if (leaseId === undefined) return;
    const { clock, plane, logger } = this.options;
    let timer: TimerId | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = clock.setTimer(REVOKE_ON_STOP_TIMEOUT_MS, resolve);
    });
    const revoked = plane.revokeLease(leaseId).catch((error: unknown) => {
      // Unreachable or already gone: the lease then expires by itself within its TTL.
      logger?.debug({ err: error }, 'could not revoke the node lease');
    });
    await Promise.race([revoked, deadline]);
    if (timer !== undefined) clock.clearTimer(timer);
  }

  /** Stops registering and renewing; answers the lease it held, if any. */
  private async halt(): Promise<number | undefined> {
    if (this.stopped) return undefined;
    this.stopped = true;
    if (this.retryTimer !== undefined) this.options.clock.clearTimer(this.retryTimer);
    await this.registering;
    const keepAlive = this.keepAlive;
    this.keepAlive = undefined;
    keepAlive?.stop();
    return keepAlive?.leaseId ?? this.unrenewedLeaseId;
  }

  private attempt(): void {
    this.retryTimer = undefined;
    if (this.stopped) return;
    this.registering = this.register().finally(() => {
      this.registering = undefined;
    });
  }

  private async register(): Promise<void> {
    const { plane, record, leaseTtlSeconds, logger } = this.options;
    let leaseId: number | undefined;
    try {
      leaseId = (await plane.grantLease(leaseTtlSeconds)).id;
      const key = nodeKey(record.id);
      if (!this.stopped) await plane.put(key, encodeRecord(key, record), { lease: leaseId });
    } catch (error) {
      this.lastError = error as Error;
      if (leaseId !== undefined) void plane.revokeLease(leaseId).catch(() => {});
      if (error instanceof ControlClosedError || this.stopped) return;
      this.failedAttempts++;
      const delayMs = registrationRetryDelayMs(this.failedAttempts, this.options.random);
      logger?.debug({ err: error, delayMs }, 'node registration failed; retrying');
      this.retryTimer = this.options.clock.setTimer(delayMs, () => this.attempt());
      return;
    }
    if (this.stopped) {
      this.unrenewedLeaseId = leaseId;
      return;
    }
    this.failedAttempts = 0;
    this.lastError = undefined;
    this.keepAlive = plane.keepAlive(leaseId, { onLost: (loss) => this.leaseLost(loss) });
    this.registrations++;
    logger?.info({ id: record.id, leaseId, registrations: this.registrations }, 'node registered');
    for (const listener of [...this.registeredListeners]) listener();
  }

  private leaseLost(loss: LeaseLoss): void {
    if (this.stopped || this.keepAlive?.leaseId !== loss.leaseId) return;
    this.keepAlive = undefined;
    this.leaseLosses++;
    this.lastError = loss.error;
    if (!isMeshError(loss.error, 'CONTROL_CLOSED')) {
      this.options.logger?.warn(
        { leaseId: loss.leaseId, reason: loss.reason, err: loss.error },
        'node lease lost; registering again with a new lease',
      );
    }
    this.attempt();
  }
}
