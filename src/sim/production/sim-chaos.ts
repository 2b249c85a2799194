import type { Random } from '../../lib/index.js';
import type { NodeId } from '../../raft/index.js';
import type { FaultCounts, FaultName, Scheduler, SimNetwork, Trace } from '../index.js';
import type { SimProductionNode } from './sim-production-node.js';

/** Between two chaos actions (partition, crash). */
export const CHAOS_INTERVAL_MIN_US = 50_000;
export const CHAOS_INTERVAL_MAX_US = 800_000;
export const PARTITION_MIN_US = 50_000;
export const PARTITION_MAX_US = 1_000_000;
export const CRASH_DOWNTIME_MIN_US = 20_000;
export const CRASH_DOWNTIME_MAX_US = 600_000;
/** How long a paused process stays frozen (a stop signal, a long garbage collection). */
export const PAUSE_MIN_US = 20_000;
export const PAUSE_MAX_US = 400_000;
/** Share of chaos turns that are operator actions (leadership transfer, clean restart). */
export const OPERATOR_ACTION_PROBABILITY = 0.2;
/** How long a cleanly stopping leader waits for its hand-over. */
export const GRACEFUL_STOP_TRANSFER_TIMEOUT_MS = 200;
/**
 * The fault phase's disruptive actions, one every 50–800 ms: minority partitions, one-way
 * link cuts, and crashes of a random node or of the leader (never more than a minority down
 * at once), each undone after a while.
 */
export class SimChaos {
  active = true;
  leadershipTransfers = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly network: SimNetwork,
    private readonly nodes: readonly SimProductionNode[],
    private readonly enabled: ReadonlySet<FaultName>,
    private readonly counts: FaultCounts,
    private readonly trace: Trace,
    private readonly random: Random,
    private readonly crashRandom: Random,
    private readonly leader: () => SimProductionNode | undefined,
  ) {}

  start(): void {
    this.scheduleNext();
  }

  private scheduleNext(): void {
    const random = this.random;
    this.scheduler.schedule(
      random.nextIntBetween(CHAOS_INTERVAL_MIN_US, CHAOS_INTERVAL_MAX_US),
      'chaos',
      () => {
        if (!this.active) return;
        this.act();
        this.scheduleNext();
      },
    );
  }

  private act(): void {
    const random = this.random;
    const enabled = this.enabled;
    const choices: FaultName[] = [
      'partition',
      'asymmetric-partition',
      'crash',
      'leader-crash',
      'pause',
    ].filter((name) => enabled.has(name as FaultName)) as FaultName[];
    if (choices.length === 0) return;
    const ids = this.nodes.map((node) => node.id);
    if (enabled.has('crash') && random.chance(OPERATOR_ACTION_PROBABILITY)) {
      this.operatorAction(ids);
      return;
    }
    const choice = choices[random.nextInt(choices.length)]!;
    if (choice === 'partition') {
      // Cut a minority off from everyone else, both ways.
      const size = random.nextIntBetween(1, Math.floor((this.nodes.length - 1) / 2));
      const cut = new Set<NodeId>();
      while (cut.size < size) cut.add(ids[random.nextInt(ids.length)]!);
      const links: Array<[NodeId, NodeId]> = [];
      for (const a of cut) for (const b of ids) if (!cut.has(b)) links.push([a, b], [b, a]);
      this.partition(links, 'partition');
    } else if (choice === 'pause') {
      const target = this.nodes[random.nextInt(this.nodes.length)]!;
      const life = target.process?.life;
      if (life === undefined) return;
      this.counts.pause++;
      const pauseUs = random.nextIntBetween(PAUSE_MIN_US, PAUSE_MAX_US);
      this.trace.record(`pause ${target.id} for ${pauseUs} us`);
      life.pausedUntilUs = Math.max(life.pausedUntilUs, this.scheduler.nowUs + pauseUs);
    } else if (choice === 'asymmetric-partition') {
      const from = ids[random.nextInt(ids.length)]!;
      const to = ids.filter((id) => id !== from)[random.nextInt(ids.length - 1)]!;
      this.partition([[from, to]], 'asymmetric-partition');
    } else {
      const maxDown = Math.floor((this.nodes.length - 1) / 2);
      const down = this.nodes.filter((node) => !node.isUp).length;
      if (down >= maxDown) return;
      const target =
        choice === 'leader-crash'
          ? this.leader()
          : this.nodes.filter((node) => node.isUp)[random.nextInt(ids.length - down)];
      if (target === undefined) return;
      this.counts[choice]++;
      this.trace.record(`crash ${target.id}`);
      target.crash(this.crashRandom);
      this.scheduler.schedule(
        random.nextIntBetween(CRASH_DOWNTIME_MIN_US, CRASH_DOWNTIME_MAX_US),
        'restart',
        () => target.boot(),
        target.id,
      );
    }
  }

  /** What operators do to healthy clusters: move leadership, restart a node cleanly. */
  private operatorAction(ids: readonly NodeId[]): void {
    const random = this.random;
    const leader = this.leader();
    if (leader?.process === undefined) return;
    if (random.chance(0.5)) {
      const others = ids.filter((id) => id !== leader.id);
      const target = others[random.nextInt(others.length)]!;
      this.trace.record(`transfer leadership ${leader.id} -> ${target}`);
      this.leadershipTransfers++;
      try {
        leader.process.node.transferLeadership(target);
      } catch {
        // Refused (another transfer or a configuration change is in progress): nothing happened.
      }
      return;
    }
    const up = this.nodes.filter((node) => node.process !== undefined);
    const maxDown = Math.floor((this.nodes.length - 1) / 2);
    if (this.nodes.length - up.length >= maxDown) return;
    const target = up[random.nextInt(up.length)]!;
    this.trace.record(`graceful restart ${target.id}`);
    const downtimeUs = random.nextIntBetween(CRASH_DOWNTIME_MIN_US, CRASH_DOWNTIME_MAX_US);
    void target.stopGracefully(GRACEFUL_STOP_TRANSFER_TIMEOUT_MS).then(() => {
      this.scheduler.schedule(downtimeUs, 'restart', () => target.boot(), target.id);
    });
  }

  private partition(links: ReadonlyArray<[NodeId, NodeId]>, name: FaultName): void {
    this.counts[name]++;
    for (const [from, to] of links) this.network.block(from, to);
    this.scheduler.schedule(this.random.nextIntBetween(PARTITION_MIN_US, PARTITION_MAX_US), 'heal', () => {
      for (const [from, to] of links) this.network.unblock(from, to);
    });
  }
}
