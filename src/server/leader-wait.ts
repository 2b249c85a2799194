import { assert, type Clock, isMeshError, MeshError, type TimerId } from '../lib/index.js';
import { NotLeaderError } from '../raft/index.js';
import { type LeaderInfo, NodeStoppedError } from './raft-node.js';

/** Requests waiting at once for this node to learn of a (new) leader; more are refused. */
export const MAX_REQUESTS_WAITING_FOR_LEADER = 10_000;
/**
 * Longest a request without a deadline waits for a leader (through an election, a restart)
 * before it fails with `no leader`. Elections take up to two election timeouts.
 */
export const LEADER_WAIT_TIMEOUT_MS = 5_000;
/** Longest any request waits for a leader, whatever deadline its client set. */
export const MAX_LEADER_WAIT_MS = 30_000;
/**
 * A request with a deadline stops waiting at least this long before it, so that its refusal
 * (`no leader`, safe to retry) reaches the client before the client gives up with an unknown
 * outcome.
 */
export const LEADER_WAIT_ANSWER_MARGIN_MS = 100;
/**
 * ... and at least this share of its deadline: a busy node's answer can take a few event-loop
 * turns to leave, more than a fixed 100 ms on a loaded machine.
 */
export const LEADER_WAIT_ANSWER_MARGIN_SHARE = 0.1;
/**
 * A request the leader it tried refused, or could not be sent to it, tries again once the
 * leader changes, or after this long at the latest (the connection may come back).
 */
export const LEADER_RETRY_PAUSE_MS = 100;
/** Attempts of one request against successive leaders. */
export const MAX_LEADER_ATTEMPTS = 300;

assert(
  MAX_LEADER_ATTEMPTS * LEADER_RETRY_PAUSE_MS >= MAX_LEADER_WAIT_MS,
  'a request waiting on an unreachable leader must be able to retry until its deadline',
);
assert(LEADER_WAIT_TIMEOUT_MS <= MAX_LEADER_WAIT_MS, 'the default leader wait must be within the longest');

/**
 * How long a request may wait for a leader: until shortly before its client's deadline
 * (`timeoutMs` from now, e.g. gRPC's `grpc-timeout`), or `LEADER_WAIT_TIMEOUT_MS` without one.
 */
export function leaderWaitMs(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined || !Number.isFinite(timeoutMs)) return LEADER_WAIT_TIMEOUT_MS;
  const margin = Math.max(LEADER_WAIT_ANSWER_MARGIN_MS, timeoutMs * LEADER_WAIT_ANSWER_MARGIN_SHARE);
  return Math.min(MAX_LEADER_WAIT_MS, Math.max(0, Math.floor(timeoutMs - margin)));
}

/**
 * Refusals that prove a write was never proposed, so trying it again cannot apply it twice: the
 * node was not (or no longer) the leader, a leadership transfer was under way, or the request
 * never left for the leader.
 */
export function neverProposed(error: unknown): boolean {
  return (
    isMeshError(error, 'NOT_LEADER') ||
    isMeshError(error, 'TRANSFER_IN_PROGRESS') ||
    isMeshError(error, 'LEADER_UNREACHABLE')
  );
}

/** A read changes nothing: any refusal or loss with its leader may be retried. */
export function readRetryable(error: unknown): boolean {
  return neverProposed(error) || isMeshError(error, 'READ_DROPPED');
}

export class TooManyWaitingForLeaderError extends MeshError {
  constructor(limit: number) {
    super('TOO_MANY_REQUESTS', `more than ${limit} requests are waiting for a leader`, {
      details: { limit },
    });
  }
}

interface Waiter {
  readonly accepts: (info: LeaderInfo) => boolean;
  readonly resolve: (info: LeaderInfo) => void;
  readonly timer: TimerId;
}

/**
 * Requests parked until the node knows a leader, or until the leader they tried is replaced,
 * each up to its own deadline. A moment without a leader (an election, a restart) then costs a
 * request some latency instead of a failure.
 */
export class LeaderWait {
  private readonly waiting = new Set<Waiter>();
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly current: () => LeaderInfo,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  /**
   * Runs `attempt` against the leader once one is known; while it fails with a refusal that
   * `retryable` accepts, tries again with the next leader, until `waitMs` has passed. The last
   * refusal is what the caller sees.
   */
  run<Result>(
    attempt: (leader: LeaderInfo) => Promise<Result>,
    retryable: (error: unknown) => boolean,
    waitMs = LEADER_WAIT_TIMEOUT_MS,
  ): Promise<Result> {
    const deadlineMs = this.clock.nowMs() + waitMs;
    // Almost every request finds a leader and succeeds at once: that path holds no async frame
    // (an object kept until the request ends) and takes no promise hop through `known`.
    const leader = this.knownNow();
    if (leader === undefined) return this.retry(attempt, retryable, deadlineMs);
    let first: Promise<Result>;
    try {
      first = attempt(leader);
    } catch (error) {
      first = Promise.reject(error);
    }
    return first.then(undefined, (error: unknown) =>
      this.retry(attempt, retryable, deadlineMs, { error, leader }),
    );
  }

  /**
   * `run`'s attempts after a refusal (`refused`), or from the first when no leader was known:
   * each waits for a leader (a new one after a refusal, or `LEADER_RETRY_PAUSE_MS`).
   */
  private async retry<Result>(
    attempt: (leader: LeaderInfo) => Promise<Result>,
    retryable: (error: unknown) => boolean,
    deadlineMs: number,
    refused?: { readonly error: unknown; readonly leader: LeaderInfo },
  ): Promise<Result> {
    let last = refused;
    for (let attempts = refused === undefined ? 0 : 1; ; ) {
      if (last !== undefined) {
        if (!retryable(last.error) || attempts >= MAX_LEADER_ATTEMPTS || this.clock.nowMs() >= deadlineMs)
          throw last.error;
        await this.changedFrom(last.leader, Math.min(deadlineMs, this.clock.nowMs() + LEADER_RETRY_PAUSE_MS));
      }
      const leader = this.knownNow() ?? (await this.known(deadlineMs));
      attempts++;
      try {
        return await attempt(leader);
      } catch (error) {
        last = { error, leader };
      }
    }
  }

  /**
   * The leader, once one is known; rejects with NOT_LEADER (no leader) at `deadlineMs`. Nothing
   * was proposed when it rejects, so the caller may retry safely.
   */
  /** The leader when one is known and the wait is open; undefined when `known` must wait. */
  private knownNow(): LeaderInfo | undefined {
    if (this.closed) return undefined;
    const now = this.current();
    return now.leaderId !== 0 ? now : undefined;
  }

  async known(deadlineMs: number): Promise<LeaderInfo> {
    if (this.closed) throw new NodeStoppedError();
    const now = this.current();
    if (now.leaderId !== 0) return now;
    const info = await this.until((candidate) => candidate.leaderId !== 0, deadlineMs);
    if (this.closed) throw new NodeStoppedError();
    if (info.leaderId === 0) throw new NotLeaderError(0);
    return info;
  }

  /** Resolves once the leader or its term differs from `tried`, or at `untilMs`, with the leader then. */
  changedFrom(tried: LeaderInfo, untilMs: number): Promise<LeaderInfo> {
    return this.until(
      (candidate) => candidate.leaderId !== tried.leaderId || candidate.term !== tried.term,
      untilMs,
    );
  }

  /** Call on every leader change: wakes the waiters that change satisfies. */
  leaderChanged(info: LeaderInfo): void {
    for (const waiter of [...this.waiting]) {
      if (waiter.accepts(info)) this.settle(waiter, info);
    }
  }

  /** Wakes every waiter now and refuses new ones: the node is stopping. */
  close(): void {
    this.closed = true;
    const info = this.current();
    for (const waiter of [...this.waiting]) this.settle(waiter, info);
  }

  private until(accepts: (info: LeaderInfo) => boolean, untilMs: number): Promise<LeaderInfo> {
    const now = this.current();
    if (accepts(now)) return Promise.resolve(now);
    const delayMs = untilMs - this.clock.nowMs();
    if (delayMs <= 0) return Promise.resolve(now);
    if (this.waiting.size >= MAX_REQUESTS_WAITING_FOR_LEADER) {
      return Promise.reject(new TooManyWaitingForLeaderError(MAX_REQUESTS_WAITING_FOR_LEADER));
    }
    return new Promise<LeaderInfo>((resolve) => {
      const waiter: Waiter = {
        accepts,
        resolve,
        timer: this.clock.setTimer(delayMs, () => this.settle(waiter, this.current())),
      };
      this.waiting.add(waiter);
    });
  }

  private settle(waiter: Waiter, info: LeaderInfo): void {
    if (!this.waiting.delete(waiter)) return;
    this.clock.clearTimer(waiter.timer);
    waiter.resolve(info);
  }
}
