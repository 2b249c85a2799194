/**
 * The executor's admission rules, one decision per queued action: admit it now, defer it (a rate
 * limit or cooldown says later; deferrals are counted and end in failure), or gate it (a hold
 * with a known end, such as a daemon's crash backoff; not counted). The seed's defaults:
 * a chain's replica pulls REPLICA_PULL_COOLDOWN_MS apart, at most MAX_DRAINS_PER_ZONE_PER_WINDOW
 * drain actions (StopDaemon, DropReplica) per zone per DRAIN_RATE_WINDOW_MS.
 */
import type { NodeId } from '../lib/index.js';
import type { ReconcileAction } from './actions.js';
import {
  DRAIN_RATE_WINDOW_MS,
  MAX_DRAINS_PER_ZONE_PER_WINDOW,
  REPLICA_PULL_COOLDOWN_MS,
} from './constants.js';

export type AdmissionDecision =
  | { readonly type: 'admit' }
  | { readonly type: 'defer'; readonly reason: string; readonly retryAtMs: number }
  | { readonly type: 'gate'; readonly reason: string; readonly untilMs: number };

const ADMIT: AdmissionDecision = { type: 'admit' };

interface DrainWindow {
  startMs: number;
  count: number;
}

export class Admission {
  private readonly lastPullMs = new Map<string, number>();
  private readonly drainWindows = new Map<string, DrainWindow>();
  private readonly backoffUntilMs = new Map<string, number>();

  constructor(private readonly zoneOf: (node: NodeId) => string) {}

  decide(action: ReconcileAction, nowMs: number): AdmissionDecision {
    switch (action.kind) {
      case 'PullReplica': {
        const last = this.lastPullMs.get(action.chain);
        if (last === undefined || nowMs - last >= REPLICA_PULL_COOLDOWN_MS) return ADMIT;
        return {
          type: 'defer',
          reason: `chain ${action.chain} had a replica pull ${nowMs - last} ms ago (cooldown ${REPLICA_PULL_COOLDOWN_MS} ms)`,
          retryAtMs: last + REPLICA_PULL_COOLDOWN_MS,
        };
      }
      case 'StopDaemon':
      case 'DropReplica': {
        const zone = this.zoneOf(action.node);
        const window = this.drainWindows.get(zone);
        if (window === undefined || nowMs - window.startMs >= DRAIN_RATE_WINDOW_MS) return ADMIT;
        if (window.count < MAX_DRAINS_PER_ZONE_PER_WINDOW) return ADMIT;
        return {
          type: 'defer',
          reason: `zone ${zone} drained ${window.count} in ${DRAIN_RATE_WINDOW_MS} ms (at most ${MAX_DRAINS_PER_ZONE_PER_WINDOW})`,
          retryAtMs: window.startMs + DRAIN_RATE_WINDOW_MS,
        };
      }
      case 'StartDaemon': {
        const until = this.backoffUntilMs.get(daemonKey(action.daemon, action.node));
        if (until === undefined || nowMs >= until) return ADMIT;
        return {
          type: 'gate',
          reason: `daemon ${action.daemon} on node ${action.node} is backing off`,
          untilMs: until,
        };
      }
      default:
        return ADMIT;
    }
  }

  /** Counts an admitted action against the limits it is under. */
  admitted(action: ReconcileAction, nowMs: number): void {
    switch (action.kind) {
      case 'PullReplica':
        this.lastPullMs.set(action.chain, nowMs);
        return;
      case 'StopDaemon':
      case 'DropReplica': {
        const zone = this.zoneOf(action.node);
        const window = this.drainWindows.get(zone);
        if (window === undefined || nowMs - window.startMs >= DRAIN_RATE_WINDOW_MS)
          this.drainWindows.set(zone, { startMs: nowMs, count: 1 });
        else window.count += 1;
        return;
      }
      case 'ApplyBackoff': {
        const key = daemonKey(action.daemon, action.node);
        this.backoffUntilMs.set(key, Math.max(this.backoffUntilMs.get(key) ?? 0, action.untilMonotonicMs));
        return;
      }
      default:
        return;
    }
  }

  /** Forgets what no longer limits anything at `nowMs`, so the maps stay as small as the activity. */
  forgetExpired(nowMs: number): void {
    for (const [chain, last] of this.lastPullMs)
      if (nowMs - last >= REPLICA_PULL_COOLDOWN_MS) this.lastPullMs.delete(chain);
    for (const [zone, window] of this.drainWindows) {
      if (nowMs - window.startMs >= DRAIN_RATE_WINDOW_MS) this.drainWindows.delete(zone);
    }
    for (const [key, until] of this.backoffUntilMs) if (nowMs >= until) this.backoffUntilMs.delete(key);
  }
}

function daemonKey(daemon: string, node: NodeId): string {
  return `${daemon}@${node}`;
}
