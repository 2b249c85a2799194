import type { NodeId } from '../lib/index.js';
import { type Life, whenRunning } from './incarnation.js';
import type { Scheduler } from './scheduler.js';
import type { SimNetwork } from './sim-network.js';
import type { SimNode } from './sim-node.js';

/** How often every node's view of the others is brought up to date. */
const HEALTH_SAMPLE_INTERVAL_US = 50_000;
/**
 * A node another has not reached for this long is suspected (the membership view's connection
 * loss and lease expiry, folded into one delay); reachable again, it is healthy at the next sample.
 */
export const SUSPECT_AFTER_US = 600_000;

interface Watcher {
  readonly life: Life;
  readonly listener: () => void;
}

/**
 * The stand-in for each node's membership view in a simulated run (the registration leases and
 * peer suspicion are not simulated): node A sees node B healthy while B's process runs unpaused
 * and the network carries A's and B's messages both ways, and suspects B once that has not held
 * for `SUSPECT_AFTER_US`. Views differ per node, as they do in a mesh: behind a one-way cut or
 * a partition, two nodes may disagree about a third.
 */
export class SimHealthView {
  private readonly lastReachedUs = new Map<string, number>();
  private readonly healthy = new Map<string, boolean>();
  private readonly watchers = new Map<NodeId, Watcher[]>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly network: SimNetwork,
    private readonly nodes: readonly SimNode[],
  ) {}

  start(): void {
    this.sample();
  }

  /** The nodes as `observer` sees them (itself always healthy). */
  nodesSeenBy(observer: NodeId): Array<{ readonly id: NodeId; readonly healthy: boolean }> {
    return this.nodes.map((node) => ({
      id: node.id,
      healthy: node.id === observer || this.healthy.get(pairKey(observer, node.id)) !== false,
    }));
  }

  /** Calls `listener` (while `life` lasts) when `life`'s node's view changes; returns an unsubscribe. */
  onChange(life: Life, listener: () => void): () => void {
    const watcher: Watcher = { life, listener };
    const list = this.watchers.get(life.node) ?? [];
    list.push(watcher);
    this.watchers.set(life.node, list);
    return () => {
      const current = this.watchers.get(life.node) ?? [];
      this.watchers.set(
        life.node,
        current.filter((candidate) => candidate !== watcher),
      );
    };
  }

  private sample(): void {
    const nowUs = this.scheduler.nowUs;
    for (const observer of this.nodes) {
      let changed = false;
      for (const target of this.nodes) {
        if (target === observer) continue;
        const key = pairKey(observer.id, target.id);
        if (this.reaches(observer, target)) this.lastReachedUs.set(key, nowUs);
        const healthy = nowUs - (this.lastReachedUs.get(key) ?? nowUs) < SUSPECT_AFTER_US;
        if ((this.healthy.get(key) ?? true) !== healthy) changed = true;
        this.healthy.set(key, healthy);
      }
      if (changed) this.notify(observer.id);
    }
    this.scheduler.schedule(HEALTH_SAMPLE_INTERVAL_US, 'health view', () => this.sample());
  }

  private reaches(observer: SimNode, target: SimNode): boolean {
    const process = target.process;
    return (
      process !== undefined &&
      process.life.pausedUntilUs <= this.scheduler.nowUs &&
      !this.network.isBlocked(observer.id, target.id) &&
      !this.network.isBlocked(target.id, observer.id)
    );
  }

  private notify(observer: NodeId): void {
    const live = (this.watchers.get(observer) ?? []).filter((watcher) => watcher.life.alive);
    this.watchers.set(observer, live);
    for (const watcher of live)
      whenRunning(this.scheduler, watcher.life, 'paused view change', watcher.listener);
  }
}

function pairKey(observer: NodeId, target: NodeId): string {
  return `${observer}>${target}`;
}
