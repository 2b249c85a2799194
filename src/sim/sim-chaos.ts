import type { Random } from '../lib/index.js';
import type { Message, NodeId } from '../raft/index.js';
import {
  CHAOS_INTERVAL_MIN_US,
  CRASH_DOWNTIME_MAX_US,
  CRASH_DOWNTIME_MIN_US,
  type FaultCounts,
  type FaultName,
  type FaultPlan,
  LEADER_CRASH_DELAY_MAX_US,
  LEADER_ISOLATE_AT_ONCE_PROBABILITY,
  LEADER_ISOLATE_SOON_MAX_US,
  LEADER_ISOLATION_MAX_US,
  LEADER_ISOLATION_MIN_US,
  PARTITION_MAX_US,
  PARTITION_MIN_US,
  PAUSE_MAX_US,
  PAUSE_MIN_US,
} from './fault-plan.js';
import type { Scheduler } from './scheduler.js';
import type { SimNetwork } from './sim-network.js';
import type { SimNode } from './sim-node.js';
import type { Trace } from './trace.js';

/** Share of chaos turns that are operator actions (leadership transfer, clean restart). */
const OPERATOR_ACTION_PROBABILITY = 0.2;
/** How long a cleanly stopping leader waits for its hand-over. */
const GRACEFUL_STOP_TRANSFER_TIMEOUT_MS = 200;

/** What the chaos driver acts on. */
export interface ChaosTargets {
  readonly scheduler: Scheduler;
  readonly network: SimNetwork;
  readonly nodes: readonly SimNode[];
  readonly plan: FaultPlan;
  readonly counts: FaultCounts;
  readonly trace: Trace;
  /** The leader of the highest term, if any. */
  leader(): SimNode | undefined;
}

/**
 * The fault phase's disruptive actions, one every 50 ms up to the seed's maximum gap:
 * minority partitions, one-way link cuts, crashes of a random node or of the leader (never
 * more than a minority down at once), process pauses, and operator actions; each undone
 * after a while. On top, the churn knobs aim at Raft's narrowest windows (figure 8): a new
 * leader crashed or cut off at once or soon, and a leader cut off right after the first copy
 * of a new entry leaves it.
 */
export class SimChaos {
  active = true;
  leadershipTransfers = 0;
  private readonly random: Random;
  private readonly crashRandom: Random;
  private readonly churnRandom: Random;

  constructor(
    private readonly targets: ChaosTargets,
    random: Random,
  ) {
    this.random = random.fork('actions');
    this.crashRandom = random.fork('crash');
    this.churnRandom = random.fork('churn');
  }

  start(): void {
    this.scheduleNext();
  }

  private scheduleNext(): void {
    this.targets.scheduler.schedule(
      this.random.nextIntBetween(CHAOS_INTERVAL_MIN_US, this.targets.plan.chaosIntervalMaxUs),
      'chaos',
      () => {
        if (!this.active) return;
        this.act();
        this.scheduleNext();
      },
    );
  }

  private get enabled(): ReadonlySet<FaultName> {
    return this.targets.plan.enabled;
  }

  private get ids(): NodeId[] {
    return this.targets.nodes.map((node) => node.id);
  }

  private act(): void {
    const random = this.random;
    const choices = (['partition', 'asymmetric-partition', 'crash', 'leader-crash', 'pause'] as const).filter(
      (name) => this.enabled.has(name),
    );
    if (choices.length === 0) return;
    if (this.enabled.has('crash') && random.chance(OPERATOR_ACTION_PROBABILITY)) {
      this.operatorAction();
      return;
    }
    const choice = choices[random.nextInt(choices.length)]!;
    switch (choice) {
      case 'partition':
        this.cutMinorityOff();
        return;
      case 'asymmetric-partition': {
        const ids = this.ids;
        const from = ids[random.nextInt(ids.length)]!;
        const to = ids.filter((id) => id !== from)[random.nextInt(ids.length - 1)]!;
        this.partition([[from, to]], 'asymmetric-partition', this.partitionDurationUs());
        return;
      }
      case 'pause':
        this.pause();
        return;
      case 'crash':
      case 'leader-crash': {
        const up = this.targets.nodes.filter((node) => node.isUp);
        const target =
          choice === 'leader-crash' || up.length === 0
            ? this.targets.leader()
            : up[random.nextInt(up.length)];
        if (target !== undefined) this.crash(target, choice);
        return;
      }
    }
  }

  /** Cuts a minority off from everyone else, both ways; half the time the leader alone. */
  private cutMinorityOff(): void {
    const random = this.random;
    const ids = this.ids;
    const leader = this.targets.leader();
    const cut = new Set<NodeId>();
    if (leader !== undefined && random.chance(0.5)) cut.add(leader.id);
    else {
      const size = random.nextIntBetween(1, Math.floor((ids.length - 1) / 2));
      while (cut.size < size) cut.add(ids[random.nextInt(ids.length)]!);
    }
    this.partition(this.isolationLinks(cut), 'partition', this.partitionDurationUs());
  }

  private isolationLinks(cut: ReadonlySet<NodeId>): Array<[NodeId, NodeId]> {
    const links: Array<[NodeId, NodeId]> = [];
    for (const a of cut) for (const b of this.ids) if (!cut.has(b)) links.push([a, b], [b, a]);
    return links;
  }

  private partitionDurationUs(): number {
    return this.random.nextIntBetween(PARTITION_MIN_US, PARTITION_MAX_US);
  }

  private pause(): void {
    const random = this.random;
    const nodes = this.targets.nodes;
    const target = nodes[random.nextInt(nodes.length)]!;
    if (target.process === undefined) return;
    this.pauseFor(target, random.nextIntBetween(PAUSE_MIN_US, PAUSE_MAX_US));
  }

  /** Stops `target`'s running process for `pauseUs` (a SIGSTOP, a long GC): it runs nothing meanwhile. */
  pauseFor(target: SimNode, pauseUs: number): void {
    const life = target.process?.life;
    if (!this.active || life === undefined) return;
    this.targets.counts.pause++;
    this.targets.trace.record(`pause ${target.id} for ${pauseUs} us`);
    life.pausedUntilUs = Math.max(life.pausedUntilUs, this.targets.scheduler.nowUs + pauseUs);
  }

  /** Crashes `target` unless that would take a majority down; it restarts after a downtime. */
  crash(target: SimNode, reason: 'crash' | 'leader-crash'): void {
    const nodes = this.targets.nodes;
    const down = nodes.filter((node) => !node.isUp).length;
    if (!this.active || !target.isUp || down >= Math.floor((nodes.length - 1) / 2)) return;
    this.targets.counts[reason]++;
    this.targets.trace.record(`crash ${target.id} (${reason})`);
    target.crash(this.crashRandom);
    this.targets.scheduler.schedule(
      this.random.nextIntBetween(CRASH_DOWNTIME_MIN_US, CRASH_DOWNTIME_MAX_US),
      'restart',
      () => target.boot(),
      target.id,
    );
  }

  /** What operators do to healthy clusters: move leadership, restart a node cleanly. */
  private operatorAction(): void {
    const random = this.random;
    const { nodes, scheduler, trace } = this.targets;
    const leader = this.targets.leader();
    if (leader?.process === undefined) return;
    if (random.chance(0.5)) {
      const others = this.ids.filter((id) => id !== leader.id);
      const target = others[random.nextInt(others.length)]!;
      trace.record(`transfer leadership ${leader.id} -> ${target}`);
      this.leadershipTransfers++;
      try {
        leader.process.node.transferLeadership(target);
      } catch {
        // Refused (another transfer or a configuration change is in progress): nothing happened.
      }
      return;
    }
    const up = nodes.filter((node) => node.process !== undefined);
    if (nodes.length - up.length >= Math.floor((nodes.length - 1) / 2)) return;
    const target = up[random.nextInt(up.length)]!;
    trace.record(`graceful restart ${target.id}`);
    const downtimeUs = random.nextIntBetween(CRASH_DOWNTIME_MIN_US, CRASH_DOWNTIME_MAX_US);
    void target.stopGracefully(GRACEFUL_STOP_TRANSFER_TIMEOUT_MS).then(() => {
      scheduler.schedule(downtimeUs, 'restart', () => target.boot(), target.id);
    });
  }

  /** Churn: a newly elected leader may be crashed soon, or cut off at once or soon. */
  onLeaderElected(leader: SimNode): void {
    if (!this.active) return;
    const random = this.churnRandom;
    const { plan, scheduler } = this.targets;
    if (random.chance(plan.leaderCrashProbability)) {
      scheduler.schedule(random.nextInt(LEADER_CRASH_DELAY_MAX_US), 'leader-crash', () =>
        this.crash(leader, 'leader-crash'),
      );
      return;
    }
    if (!random.chance(plan.leaderIsolateProbability)) return;
    const isolationUs = random.nextIntBetween(LEADER_ISOLATION_MIN_US, LEADER_ISOLATION_MAX_US);
    if (random.chance(LEADER_ISOLATE_AT_ONCE_PROBABILITY)) {
      // Cut off at the moment of election: its first entry (the no-op) stays its own.
      this.isolate(leader.id, isolationUs);
      return;
    }
    // Otherwise soon, often while it is still bringing followers' logs in line.
    const delayUs = random.chance(0.5)
      ? random.nextInt(LEADER_ISOLATE_SOON_MAX_US)
      : random.nextInt(LEADER_CRASH_DELAY_MAX_US);
    scheduler.schedule(delayUs, 'leader-isolate', () => {
      if (this.active) this.isolate(leader.id, isolationUs);
    });
  }

  /**
   * Churn: right after the first copy of a leader's new entry leaves, cut the leader off, so
   * the entry sits on the leader and one follower only (figure 8's partial replication).
   */
  onMessageSent(message: Message): void {
    if (
      this.active &&
      message.type === 'append' &&
      message.entries.length > 0 &&
      message.entries[message.entries.length - 1]!.term === message.term &&
      !this.targets.network.isBlocked(message.from, message.to) &&
      this.churnRandom.chance(this.targets.plan.partialBroadcastProbability)
    ) {
      this.isolate(
        message.from,
        this.churnRandom.nextIntBetween(LEADER_ISOLATION_MIN_US, LEADER_ISOLATION_MAX_US),
      );
    }
  }

  /** Cuts `node` off from every other node, both ways, for `durationUs` (while chaos is active). */
  isolate(node: NodeId, durationUs: number): void {
    if (!this.active) return;
    this.partition(this.isolationLinks(new Set([node])), 'partition', durationUs);
  }

  private partition(links: ReadonlyArray<[NodeId, NodeId]>, name: FaultName, durationUs: number): void {
    const { counts, network, scheduler, trace } = this.targets;
    counts[name]++;
    trace.record(`${name} ${links.map(([from, to]) => `${from}>${to}`).join(' ')}`);
    for (const [from, to] of links) network.block(from, to);
    scheduler.schedule(durationUs, 'heal', () => {
      for (const [from, to] of links) network.unblock(from, to);
    });
  }
}
