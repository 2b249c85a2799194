/**
 * The mesh's one reconciler (docs/RECONCILE.md "Which node runs reconcile"): every node runs a
 * `Reconciler`; the one holding `reconciler` (a leased seat) follows the observed and desired
 * state, runs `reconcile` on every change and every RECONCILE_PASS_INTERVAL_MS, and hands the
 * actions to an `ActionExecutor` whose owners are the parts registered on the node's hub. The
 * others stand by. A term ends as soon as the lease is lost: its executor is dropped, nothing
 * more is dispatched, and every owner's write carries the term's fence, so a stale holder's
 * dispatch is refused by the control plane.
 */
import { LeasedSeat, type SeatTerm } from '../chains/index.js';
import { type ControlPlane, RECONCILER_KEY } from '../control/index.js';
import type { Clock, Logger, NodeId, Random, TimerId } from '../lib/index.js';
import {
  ActionExecutor,
  type ActionHandler,
  ActionIds,
  type ActionKind,
  type ActionOwner,
  type ActionOwners,
  type Blocked,
  type ExecutorEvent,
  type ExecutorStatus,
  ownerOf,
  type PendingAction,
  type ReconcileOptions,
  reconcile,
} from '../reconcile/index.js';
import { ReconcileActionRefusedError, ReconcileTermFencedError } from './reconcile-errors.js';
import type { ReconcileHub, ReconcileTerm } from './reconcile-hub.js';
import {
  RECONCILE_CHANGE_DELAY_MS,
  RECONCILE_DRAIN_INTERVAL_MS,
  RECONCILE_PASS_INTERVAL_MS,
  RECONCILE_STATUS_ENTRIES_SHOWN,
  RECONCILER_LEASE_TTL_SECONDS,
} from './reconcile-limits.js';
import type { ReconcileState, ReconcileStateOptions } from './reconcile-state.js';

const OWNERS: readonly ActionOwner[] = [
  'daemons',
  'replicas',
  'placement',
  'blobs',
  'avoid-list',
  'maintenance',
];

export interface ReconcilerOptions {
  readonly plane: ControlPlane;
  readonly self: NodeId;
  readonly hub: ReconcileHub;
  /** Opens the followed state for one term (it calls `onChange` on every change). */
  readonly openState: (handlers: Pick<ReconcileStateOptions, 'onChange' | 'onError'>) => ReconcileState;
  readonly reconcileOptions?: ReconcileOptions;
  readonly passIntervalMs?: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
}

/** What `/status` shows of the reconciler on this node. */
export interface ReconcilerStatus {
  readonly holding: boolean;
  /** The term this node holds now. */
  readonly epoch?: number;
  /** Terms this node held so far. */
  readonly terms: number;
  /** Passes this node ran (all its terms). */
  readonly passes: number;
  /** Passes that failed (bad input; see the log). */
  readonly failedPasses: number;
  readonly lastPass?: {
    readonly atWallMs: number;
    readonly durationMs: number;
    readonly actions: number;
    readonly blocked: readonly Blocked[];
  };
  readonly executor?: ExecutorStatus;
  /** Actions completed and failed on this node (all its terms), by kind. */
  readonly completed: Readonly<Partial<Record<ActionKind, number>>>;
  readonly failed: Readonly<Partial<Record<ActionKind, number>>>;
  readonly pending?: readonly PendingAction[];
}

/** One term's running parts. */
interface Holding {
  readonly term: ReconcileTerm;
  readonly seat: SeatTerm;
  readonly abort: AbortController;
  readonly executor: ActionExecutor;
  readonly state: ReconcileState;
  /** Actions submitted and not finished, by id: the executor's events carry ids only. */
  readonly actions: Map<number, PendingAction>;
  zones: ReadonlyMap<NodeId, string>;
  dirty: boolean;
  lastPassMs: number;
  wake: (() => void) | undefined;
}

export class Reconciler {
  private readonly seat: LeasedSeat;
  private readonly ids = new ActionIds();
  private holding: Holding | undefined;
  private passes = 0;
  private failedPasses = 0;
  private lastPass: ReconcilerStatus['lastPass'];
  private readonly completed: Partial<Record<ActionKind, number>> = {};
  private readonly failed: Partial<Record<ActionKind, number>> = {};

  constructor(private readonly options: ReconcilerOptions) {
    this.seat = new LeasedSeat({
      plane: options.plane,
      key: RECONCILER_KEY,
      self: options.self,
      leaseTtlSeconds: RECONCILER_LEASE_TTL_SECONDS,
      clock: options.clock,
      random: options.random,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      hold: (term) => this.hold(term),
    });
  }

  get isHolding(): boolean {
    return this.holding !== undefined;
  }

  start(): void {
    this.seat.start();
  }

  /** Stands down (the lease is revoked, so another node takes over at once) and stops contending. */
  stop(): Promise<void> {
    return this.seat.stop();
  }

  status(): ReconcilerStatus {
    const holding = this.holding;
    return {
      holding: holding !== undefined,
      ...(holding === undefined
        ? {}
        : {
            epoch: holding.term.epoch,
            executor: holding.executor.status(),
            pending: holding.executor.pending().slice(0, RECONCILE_STATUS_ENTRIES_SHOWN),
          }),
      terms: this.seat.terms,
      completed: { ...this.completed },
      failed: { ...this.failed },
      passes: this.passes,
      failedPasses: this.failedPasses,
      ...(this.lastPass === undefined ? {} : { lastPass: this.lastPass }),
    };
  }

  /** One term: follow the state, pass on changes and on the interval, drain, until the term ends. */
  private async hold(seat: SeatTerm): Promise<void> {
    const { logger } = this.options;
    const term: ReconcileTerm = { holder: this.options.self, epoch: epochOf(seat), fence: seat.fence };
    const abort = new AbortController();
    let ended = false;
    void seat.ended.then(() => {
      ended = true;
      abort.abort();
      holding.wake?.();
    });
    const actions = new Map<number, PendingAction>();
    const executor = new ActionExecutor({
      owners: this.owners(term, abort.signal, () => holding),
      zoneOf: (node) => holding.zones.get(node) ?? 'default',
      onEvent: (event) => this.recordEvent(holding, event),
    });
    const state = this.options.openState({
      onChange: () => this.changed(holding),
      onError: (error) => seat.end(`following the state failed: ${error.message}`),
    });
    const holding: Holding = {
      term,
      seat,
      abort,
      executor,
      state,
      actions,
      zones: new Map(),
      dirty: true,
      lastPassMs: Number.NEGATIVE_INFINITY,
      wake: undefined,
    };
    this.holding = holding;
    logger?.info({ epoch: term.epoch }, 'reconcile: holding the reconciler lease');
    try {
      while (!ended) {
        await this.waitForWork(holding);
        if (ended) break;
        this.step(holding);
      }
    } finally {
      if (this.holding === holding) this.holding = undefined;
      state.stop();
      logger?.info({ epoch: term.epoch }, 'reconcile: the term ended; standing by');
    }
  }

  /** A pass when something changed or the interval passed, then a drain of what is due. */
  private step(holding: Holding): void {
    const { clock } = this.options;
    const nowMs = clock.nowMs();
    const intervalMs = this.options.passIntervalMs ?? RECONCILE_PASS_INTERVAL_MS;
    if (holding.state.loaded && (holding.dirty || nowMs - holding.lastPassMs >= intervalMs)) {
      holding.dirty = false;
      holding.lastPassMs = nowMs;
      this.pass(holding, nowMs);
    }
    holding.executor.drain(clock.nowMs());
  }

  private pass(holding: Holding, nowMs: number): void {
    const { clock, logger } = this.options;
    const time = { monotonicMs: nowMs, wallMs: clock.wallMs() };
    try {
      const input = holding.state.input(time, holding.executor.pending());
      holding.zones = new Map(input.observed.nodes.map((node) => [node.id, node.zone]));
      const result = reconcile(input.observed, input.desired, time, this.ids, this.options.reconcileOptions);
      for (const pending of result.actions) holding.actions.set(pending.id, pending);
      holding.executor.submit(result.actions, clock.nowMs());
      this.passes += 1;
      this.lastPass = {
        atWallMs: time.wallMs,
        durationMs: clock.nowMs() - nowMs,
        actions: result.actions.length,
        blocked: result.blocked.slice(0, RECONCILE_STATUS_ENTRIES_SHOWN),
      };
      if (result.actions.length > 0)
        logger?.debug({ actions: result.actions.map((pending) => pending.action) }, 'reconcile: pass');
    } catch (error) {
      this.failedPasses += 1;
      logger?.warn({ err: error }, 'reconcile: the pass failed');
    }
  }

  /** The executor's owners: each action goes to the part registered on the hub for its owner. */
  private owners(term: ReconcileTerm, signal: AbortSignal, current: () => Holding): ActionOwners {
    const handler: ActionHandler = {
      handle: (pending) => {
        const owner = this.options.hub.owner(ownerOf(pending.action));
        if (owner === undefined)
          throw new ReconcileActionRefusedError(
            pending.action.kind,
            `no part of node ${term.holder} carries it out`,
          );
        if (signal.aborted) throw new ReconcileTermFencedError(term.epoch);
        owner.handle(pending, { term, signal }).then(
          () => this.finish(current(), pending, undefined),
          (error: unknown) =>
            this.finish(current(), pending, error instanceof Error ? error.message : String(error)),
        );
      },
    };
    return Object.fromEntries(OWNERS.map((owner) => [owner, handler])) as unknown as ActionOwners;
  }

  private finish(holding: Holding, pending: PendingAction, failure: string | undefined): void {
    // A term that ended dropped its executor: the answer has nowhere to go (the next holder re-plans).
    if (holding.abort.signal.aborted || this.holding !== holding) return;
    const nowMs = this.options.clock.nowMs();
    if (failure === undefined) holding.executor.complete(pending.id, nowMs);
    else holding.executor.fail(pending.id, failure, nowMs);
    this.changed(holding);
  }

  private recordEvent(holding: Holding, event: ExecutorEvent): void {
    const action = holding.actions.get(event.id);
    if (action === undefined) return;
    if (
      event.type === 'completed' ||
      event.type === 'failed' ||
      event.type === 'refused' ||
      event.type === 'duplicate'
    )
      holding.actions.delete(event.id);
    const kind = action.action.kind;
    if (event.type === 'completed') this.completed[kind] = (this.completed[kind] ?? 0) + 1;
    if (event.type === 'failed') {
      this.failed[kind] = (this.failed[kind] ?? 0) + 1;
      this.options.logger?.info({ action: action.action, reason: event.reason }, 'reconcile: action failed');
    }
    this.options.hub.emit({
      event,
      action,
      term: { holder: holding.term.holder, epoch: holding.term.epoch },
    });
  }

  private changed(holding: Holding): void {
    holding.dirty = true;
    holding.wake?.();
  }

  /** Resolves after a change (shortly, so changes arriving together share a pass), a drain tick or the interval. */
  private waitForWork(holding: Holding): Promise<void> {
    const { clock } = this.options;
    const intervalMs = this.options.passIntervalMs ?? RECONCILE_PASS_INTERVAL_MS;
    const waiting = holding.executor.status().queued > 0;
    const delayMs = holding.dirty
      ? RECONCILE_CHANGE_DELAY_MS
      : Math.min(intervalMs, waiting ? RECONCILE_DRAIN_INTERVAL_MS : intervalMs);
    return new Promise((resolve) => {
      let timer: TimerId | undefined;
      const done = (): void => {
        holding.wake = undefined;
        if (timer !== undefined) clock.clearTimer(timer);
        resolve();
      };
      timer = clock.setTimer(delayMs, done);
      if (!holding.dirty) {
        holding.wake = () => {
          // A change: run shortly, letting changes that arrive together share the pass.
          holding.wake = undefined;
          if (timer !== undefined) clock.clearTimer(timer);
          timer = clock.setTimer(RECONCILE_CHANGE_DELAY_MS, done);
        };
      }
      if (holding.abort.signal.aborted) done();
    });
  }
}

/** The term's epoch: the lease key's create revision, which grows with every term in the mesh. */
function epochOf(seat: SeatTerm): number {
  for (const compare of seat.fence) if (compare.target === 'createRevision') return compare.operand;
  return 0;
}
