/**
 * `meshos actions`: what became of each action, folded from the audit records (so any node can
 * answer, and the answer survives the reconciler). Action ids are unique per reconciler term, so
 * an action is named by its epoch and id. Queue latency is dispatched minus queued, wall-clock.
 */
import { assert, type NodeId } from '../lib/index.js';
import type { ActionId, ActionKind, WireAction } from '../reconcile/index.js';
import type { AuditRecord } from './audit-record.js';

export type ActionState =
  /** Queued (or emitted), not dispatched yet; deferrals and gates keep it here. */
  | 'pending'
  /** Dispatched to its owner, no answer yet. */
  | 'in-flight'
  | 'done'
  | 'failed'
  /** Refused by backpressure when submitted. */
  | 'refused'
  /** Dropped when submitted: the same change was queued or in flight already. */
  | 'duplicate'
  /** Pending or in flight when its reconciler's term ended; the next reconciler asks afresh. */
  | 'abandoned';

export const ACTION_STATES: readonly ActionState[] = [
  'pending',
  'in-flight',
  'done',
  'failed',
  'refused',
  'duplicate',
  'abandoned',
];

export interface ActionView {
  readonly epoch: number;
  readonly id: ActionId;
  /** The reconciler that emitted it. */
  readonly node: NodeId;
  state: ActionState;
  /** Undefined when its `emitted` record was trimmed or dropped. */
  action: WireAction | undefined;
  emittedAtWallMs: number | undefined;
  queuedAtWallMs: number | undefined;
  dispatchedAtWallMs: number | undefined;
  finishedAtWallMs: number | undefined;
  /** Dispatched minus queued, once dispatched. */
  queueLatencyMs: number | undefined;
  deferrals: number;
  /** The last deferral, gate or failure reason. */
  reason: string | undefined;
}

export interface QueueLatencySummary {
  readonly count: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly maxMs?: number;
}

export interface ActionsReport {
  /** Oldest first (by epoch, then id). */
  readonly actions: readonly ActionView[];
  readonly counts: Readonly<Record<ActionState, number>>;
  readonly queueLatency: QueueLatencySummary;
  /** The epoch of the last record: actions of older epochs are no longer worked on. */
  readonly currentEpoch: number;
}

function viewOf(views: Map<string, ActionView>, record: AuditRecord, id: ActionId): ActionView {
  const name = `${record.epoch}:${id}`;
  let view = views.get(name);
  if (view === undefined) {
    view = {
      epoch: record.epoch,
      id,
      node: record.node,
      state: 'pending',
      action: undefined,
      emittedAtWallMs: undefined,
      queuedAtWallMs: undefined,
      dispatchedAtWallMs: undefined,
      finishedAtWallMs: undefined,
      queueLatencyMs: undefined,
      deferrals: 0,
      reason: undefined,
    };
    views.set(name, view);
  }
  return view;
}

function apply(views: Map<string, ActionView>, record: AuditRecord): void {
  const { entry, atWallMs } = record;
  switch (entry.type) {
    case 'term':
    case 'gap':
      return;
    case 'emitted': {
      const view = viewOf(views, record, entry.action.id);
      view.action = entry.action.action;
      view.emittedAtWallMs = entry.action.emittedAtWallMs;
      return;
    }
    case 'queued':
      viewOf(views, record, entry.id).queuedAtWallMs = atWallMs;
      return;
    case 'duplicate':
    case 'refused':
      viewOf(views, record, entry.id).state = entry.type;
      return;
    case 'deferred':
    case 'gated': {
      const view = viewOf(views, record, entry.id);
      if (entry.type === 'deferred') view.deferrals += 1;
      view.reason = entry.reason;
      return;
    }
    case 'dispatched': {
      const view = viewOf(views, record, entry.id);
      view.state = 'in-flight';
      view.dispatchedAtWallMs = atWallMs;
      if (view.queuedAtWallMs !== undefined) view.queueLatencyMs = atWallMs - view.queuedAtWallMs;
      return;
    }
    case 'completed':
    case 'failed': {
      const view = viewOf(views, record, entry.id);
      view.state = entry.type === 'completed' ? 'done' : 'failed';
      view.finishedAtWallMs = atWallMs;
      if (entry.type === 'failed') view.reason = entry.reason;
      return;
    }
  }
}

/** Nearest-rank percentile of sorted values (at least one). */
function percentile(sorted: readonly number[], fraction: number): number {
  const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))];
  assert(value !== undefined, 'a percentile of no values');
  return value;
}

function latencySummary(actions: readonly ActionView[]): QueueLatencySummary {
  const latencies = actions
    .map((view) => view.queueLatencyMs)
    .filter((latency): latency is number => latency !== undefined)
    .sort((a, b) => a - b);
  if (latencies.length === 0) return { count: 0 };
  return {
    count: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: percentile(latencies, 1),
  };
}

/** Every action the records tell of, with its state; records come in chain order. */
export function actionsFromAudit(records: Iterable<AuditRecord>): ActionsReport {
  const views = new Map<string, ActionView>();
  let currentEpoch = 0;
  for (const record of records) {
    currentEpoch = Math.max(currentEpoch, record.epoch);
    apply(views, record);
  }
  const actions = [...views.values()].sort((a, b) => a.epoch - b.epoch || a.id - b.id);
  const counts = Object.fromEntries(ACTION_STATES.map((state) => [state, 0])) as Record<ActionState, number>;
  for (const view of actions) {
    const working = view.state === 'pending' || view.state === 'in-flight';
    if (working && view.epoch < currentEpoch) view.state = 'abandoned';
    counts[view.state] += 1;
  }
  return { actions, counts, queueLatency: latencySummary(actions), currentEpoch };
}

/** `StartDaemon daemon=web node=3`: an action's kind and fields on one line. */
export function describeWireAction(action: WireAction): string {
  const { kind, ...fields } = action as { kind: ActionKind } & Record<string, unknown>;
  const parts = Object.entries(fields).map(
    ([name, value]) => `${name}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
  );
  return [kind, ...parts].join(' ');
}
