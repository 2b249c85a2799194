/**
 * The action executor: a bounded queue between reconcile and the parts that carry actions out.
 * `submit` queues emitted actions (a second action asking for a change already queued or in
 * flight is a duplicate and dropped; past BACKPRESSURE_ON_QUEUED_ACTIONS every submission is
 * refused until the queue is back at BACKPRESSURE_OFF_QUEUED_ACTIONS). `drain` goes through the
 * queue in order and, per action, admits it (dispatches it to its owner), defers it (counted:
 * the MAX_DEFERRALS_PER_ACTION-th deferral fails it with its reason) or gates it. Owners report
 * back with `complete` or `fail`; reporting twice is a no-op. The same change submitted again
 * after a failure waits out a growing delay first (retry-delay.ts). Times are monotonic milliseconds.
 */
import { assert, type NodeId } from '../lib/index.js';
import {
  ACTION_KINDS,
  type ActionId,
  type ActionOwner,
  actionKey,
  ownerOf,
  type PendingAction,
} from './actions.js';
import { Admission } from './admission.js';
import {
  BACKPRESSURE_OFF_QUEUED_ACTIONS,
  BACKPRESSURE_ON_QUEUED_ACTIONS,
  MAX_ACTIONS_IN_FLIGHT,
  MAX_DEFERRALS_PER_ACTION,
} from './constants.js';
import { ExecutorInputError } from './errors.js';
import { RetryDelay } from './retry-delay.js';

/** The part that carries out one owner's actions; it answers through `complete` / `fail`. */
export interface ActionHandler {
  handle(pending: PendingAction): void;
}

export type ActionOwners = Readonly<Record<ActionOwner, ActionHandler>>;

export type SubmitOutcome = 'queued' | 'duplicate' | 'refused';

/** What happened to an action, for the audit chain and `meshos actions`. */
export type ExecutorEvent =
  | {
      readonly type: 'queued' | 'duplicate' | 'refused' | 'dispatched' | 'completed';
      readonly id: ActionId;
      readonly atMs: number;
    }
  | {
      readonly type: 'deferred' | 'gated' | 'failed';
      readonly id: ActionId;
      readonly atMs: number;
      readonly reason: string;
    };

export interface ExecutorOptions {
  readonly owners: ActionOwners;
  /** The zone of a node (drain limits are per zone). */
  readonly zoneOf: (node: NodeId) => string;
  readonly onEvent?: (event: ExecutorEvent) => void;
}

export interface ExecutorStatus {
  readonly queued: number;
  readonly inFlight: number;
  readonly backpressure: boolean;
  readonly refused: number;
  readonly duplicates: number;
  readonly deferrals: number;
  readonly dispatched: number;
  readonly completed: number;
  readonly failed: number;
}

interface QueuedAction {
  readonly pending: PendingAction;
  readonly key: string;
  deferrals: number;
  notBeforeMs: number;
}

export class ActionExecutor {
  private queue: QueuedAction[] = [];
  private readonly inFlight = new Map<ActionId, { readonly pending: PendingAction; readonly key: string }>();
  private readonly keys = new Set<string>();
  /** Ids of the queued and in-flight actions. */
  private readonly held = new Set<ActionId>();
  private readonly admission: Admission;
  private readonly retries = new RetryDelay();
  private backpressure = false;
  private highestId = 0;
  private lastNowMs = Number.NEGATIVE_INFINITY;
  /** True while `drain` dispatches: an owner may answer then, but not submit. */
  private draining = false;
  private readonly counts = {
    refused: 0,
    duplicates: 0,
    deferrals: 0,
    dispatched: 0,
    completed: 0,
    failed: 0,
  };

  constructor(private readonly options: ExecutorOptions) {
    this.admission = new Admission(options.zoneOf);
  }

  submit(actions: readonly PendingAction[], nowMs: number): SubmitOutcome[] {
    assert(!this.draining, 'an owner submitted actions from inside its handler');
    this.advanceTo(nowMs);
    return actions.map((pending) => this.submitOne(pending, nowMs));
  }

  private submitOne(pending: PendingAction, nowMs: number): SubmitOutcome {
    if (!Number.isSafeInteger(pending.id) || pending.id < 1)
      throw new ExecutorInputError('ACTION_ID_INVALID', `action ids are integers >= 1, got ${pending.id}`);
    if (!ACTION_KINDS.includes(pending.action.kind))
      throw new ExecutorInputError(
        'ACTION_KIND_INVALID',
        `unknown action kind ${String(pending.action.kind)}`,
      );
    const key = actionKey(pending.action);
    if (this.keys.has(key) || this.held.has(pending.id)) {
      this.counts.duplicates += 1;
      this.emit({ type: 'duplicate', id: pending.id, atMs: nowMs });
      return 'duplicate';
    }
    if (this.backpressure) {
      this.counts.refused += 1;
      this.emit({ type: 'refused', id: pending.id, atMs: nowMs });
      return 'refused';
    }
    this.highestId = Math.max(this.highestId, pending.id);
    this.queue.push({ pending, key, deferrals: 0, notBeforeMs: this.retries.notBeforeMs(key, nowMs) });
    this.keys.add(key);
    this.held.add(pending.id);
    if (this.queue.length >= BACKPRESSURE_ON_QUEUED_ACTIONS) this.backpressure = true;
    this.emit({ type: 'queued', id: pending.id, atMs: nowMs });
    return 'queued';
  }

  /** Admits, defers or gates each queued action that is due, in queue order. */
  drain(nowMs: number): void {
    this.advanceTo(nowMs);
    this.admission.forgetExpired(nowMs);
    this.retries.forgetExpired(nowMs);
    const due = this.queue;
    this.queue = [];
    const kept: QueuedAction[] = [];
    this.draining = true;
    try {
      this.admitDue(due, kept, nowMs);
    } finally {
      this.queue = kept;
      this.draining = false;
    }
    if (this.backpressure && this.queue.length <= BACKPRESSURE_OFF_QUEUED_ACTIONS) this.backpressure = false;
  }

  private admitDue(due: readonly QueuedAction[], kept: QueuedAction[], nowMs: number): void {
    for (const entry of due) {
      if (entry.notBeforeMs > nowMs || this.inFlight.size >= MAX_ACTIONS_IN_FLIGHT) {
        kept.push(entry);
        continue;
      }
      const decision = this.admission.decide(entry.pending.action, nowMs);
      if (decision.type === 'admit') {
        this.dispatch(entry, nowMs);
      } else if (decision.type === 'gate') {
        entry.notBeforeMs = decision.untilMs;
        kept.push(entry);
        this.emit({ type: 'gated', id: entry.pending.id, atMs: nowMs, reason: decision.reason });
      } else {
        entry.deferrals += 1;
        this.counts.deferrals += 1;
        if (entry.deferrals >= MAX_DEFERRALS_PER_ACTION) {
          this.keys.delete(entry.key);
          this.held.delete(entry.pending.id);
          this.counts.failed += 1;
          this.emit({
            type: 'failed',
            id: entry.pending.id,
            atMs: nowMs,
            reason: `deferred ${entry.deferrals} times: ${decision.reason}`,
          });
          continue;
        }
        entry.notBeforeMs = decision.retryAtMs;
        kept.push(entry);
        this.emit({ type: 'deferred', id: entry.pending.id, atMs: nowMs, reason: decision.reason });
      }
    }
  }

  private dispatch(entry: QueuedAction, nowMs: number): void {
    this.admission.admitted(entry.pending.action, nowMs);
    this.inFlight.set(entry.pending.id, { pending: entry.pending, key: entry.key });
    this.counts.dispatched += 1;
    this.emit({ type: 'dispatched', id: entry.pending.id, atMs: nowMs });
    try {
      this.options.owners[ownerOf(entry.pending.action)].handle(entry.pending);
    } catch (error) {
      // An owner that throws fails its action; the queue goes on.
      this.fail(
        entry.pending.id,
        `its owner threw: ${error instanceof Error ? error.message : String(error)}`,
        nowMs,
      );
    }
  }

  /** The owner carried the action out. False when it had already finished (a repeated report). */
  complete(id: ActionId, nowMs: number): boolean {
    return this.finish(id, nowMs, undefined);
  }

  /** The owner could not carry the action out; reconcile asks again if it is still needed. */
  fail(id: ActionId, reason: string, nowMs: number): boolean {
    return this.finish(id, nowMs, reason);
  }

  private finish(id: ActionId, nowMs: number, failure: string | undefined): boolean {
    this.advanceTo(nowMs);
    if (!Number.isSafeInteger(id) || id < 1 || id > this.highestId)
      throw new ExecutorInputError('ACTION_ID_INVALID', `action ${id} was never submitted to this executor`);
    const entry = this.inFlight.get(id);
    if (entry === undefined) return false;
    this.inFlight.delete(id);
    this.keys.delete(entry.key);
    this.held.delete(id);
    if (failure === undefined) {
      this.retries.succeeded(entry.key);
      this.counts.completed += 1;
      this.emit({ type: 'completed', id, atMs: nowMs });
    } else {
      this.retries.failed(entry.key, nowMs);
      this.counts.failed += 1;
      this.emit({ type: 'failed', id, atMs: nowMs, reason: failure });
    }
    return true;
  }

  /** Queued and in-flight actions, oldest first: what reconcile passes as `observed.pending`. */
  pending(): PendingAction[] {
    return [...this.inFlight.values(), ...this.queue]
      .map((entry) => entry.pending)
      .sort((a, b) => a.id - b.id);
  }

  status(): ExecutorStatus {
    return {
      queued: this.queue.length,
      inFlight: this.inFlight.size,
      backpressure: this.backpressure,
      ...this.counts,
    };
  }

  private advanceTo(nowMs: number): void {
    if (!Number.isFinite(nowMs) || nowMs < this.lastNowMs)
      throw new ExecutorInputError(
        'EXECUTOR_TIME_INVALID',
        `executor time ${nowMs} ms is before ${this.lastNowMs} ms`,
      );
    this.lastNowMs = nowMs;
  }

  private emit(event: ExecutorEvent): void {
    this.options.onEvent?.(event);
  }
}
