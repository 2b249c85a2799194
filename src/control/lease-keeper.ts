/**
 * Keeps a lease alive in the background: renews it LEASE_RENEWALS_PER_TTL times per TTL, and
 * after a failed renewal tries again with backoff until the lease's deadline (the last
 * successful renewal plus its TTL). The owner is told once, when the lease is lost: the store
 * no longer has it, or no renewal succeeded before the deadline.
 */
import { retryDelayMs } from '../client/index.js';
import type { Clock, Random, TimerId } from '../lib/index.js';
import type { LeaseKeepAlive, LeaseLoss, LeaseLossReason } from './control-plane.js';
import { ControlPlaneError, ControlUnavailableError } from './errors.js';
import { LEASE_RENEWALS_PER_TTL, MIN_CONTROL_LEASE_TTL_SECONDS } from './limits.js';

const MILLISECONDS_PER_SECOND = 1_000;

export interface LeaseKeeperDependencies {
  readonly renew: (leaseId: number) => Promise<number>;
  readonly clock: Clock;
  readonly random: Random;
  readonly onLost?: (loss: LeaseLoss) => void;
  /** Called when the keeper ends (lost or stopped), so its owner forgets it. */
  readonly onEnd: (keeper: LeaseKeeper) => void;
}

export class LeaseKeeper implements LeaseKeepAlive {
  readonly lost: Promise<LeaseLoss>;
  private resolveLost: (loss: LeaseLoss) => void = () => {};
  private renewalCount = 0;
  private failures = 0;
  private lastError: Error | undefined;
  private ended = false;
  /** When the lease must be presumed expired if no renewal succeeds first. */
  private deadlineMs: number;
  private ttlMs = MIN_CONTROL_LEASE_TTL_SECONDS * MILLISECONDS_PER_SECOND;
  private renewTimer: TimerId | undefined;
  private deadlineTimer: TimerId | undefined;

  constructor(
    readonly leaseId: number,
    private readonly dependencies: LeaseKeeperDependencies,
  ) {
    this.lost = new Promise((resolve) => {
      this.resolveLost = resolve;
    });
    // Until the first renewal answers, the shortest TTL any store grants is all that is known.
    this.deadlineMs = dependencies.clock.nowMs() + this.ttlMs;
    this.armDeadline();
    this.renewNow();
  }

  get renewals(): number {
    return this.renewalCount;
  }

  get aliveUntilMs(): number {
    return this.deadlineMs;
  }

  stop(): void {
    this.end();
  }

  private renewNow(): void {
    this.renewTimer = undefined;
    if (this.ended) return;
    const sentAtMs = this.dependencies.clock.nowMs();
    this.dependencies.renew(this.leaseId).then(
      (ttlSeconds) => this.renewed(sentAtMs, ttlSeconds),
      (error: unknown) => this.failed(error),
    );
  }

  private renewed(sentAtMs: number, ttlSeconds: number): void {
    if (this.ended) return;
    this.renewalCount += 1;
    this.failures = 0;
    this.ttlMs = ttlSeconds * MILLISECONDS_PER_SECOND;
    // Measured from when the renewal was sent: the store restarted the TTL no earlier than that.
    this.deadlineMs = sentAtMs + this.ttlMs;
    this.armDeadline();
    this.schedule(this.ttlMs / LEASE_RENEWALS_PER_TTL);
  }

  private failed(error: unknown): void {
    if (this.ended) return;
    const typed = error instanceof Error ? error : new ControlUnavailableError(String(error));
    if (typed instanceof ControlPlaneError && typed.code === 'CONTROL_LEASE_NOT_FOUND') {
      this.lose('not-found', typed);
      return;
    }
    this.lastError = typed;
    const delayMs = Math.min(
      retryDelayMs(this.failures, this.dependencies.random),
      this.ttlMs / LEASE_RENEWALS_PER_TTL,
    );
    this.failures += 1;
    this.schedule(delayMs);
  }

  private schedule(delayMs: number): void {
    if (this.renewTimer !== undefined) this.dependencies.clock.clearTimer(this.renewTimer);
    this.renewTimer = this.dependencies.clock.setTimer(delayMs, () => this.renewNow());
  }

  private armDeadline(): void {
    const clock = this.dependencies.clock;
    if (this.deadlineTimer !== undefined) clock.clearTimer(this.deadlineTimer);
    this.deadlineTimer = clock.setTimer(this.deadlineMs - clock.nowMs(), () => {
      this.deadlineTimer = undefined;
      this.lose(
        'deadline-passed',
        this.lastError ??
          new ControlUnavailableError(`lease ${this.leaseId}: no renewal answered before its TTL ran out`),
      );
    });
  }

  private lose(reason: LeaseLossReason, error: Error): void {
    if (this.ended) return;
    this.end();
    const loss: LeaseLoss = { leaseId: this.leaseId, reason, error };
    this.resolveLost(loss);
    this.dependencies.onLost?.(loss);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    const clock = this.dependencies.clock;
    if (this.renewTimer !== undefined) clock.clearTimer(this.renewTimer);
    if (this.deadlineTimer !== undefined) clock.clearTimer(this.deadlineTimer);
    this.renewTimer = undefined;
    this.deadlineTimer = undefined;
    this.dependencies.onEnd(this);
  }
}
