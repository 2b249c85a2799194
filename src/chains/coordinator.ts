/**
 * `ChainCoordinator`: placement and repair run by one node at a time (docs/CHAINS.md "Placement
 * and repair"). Every node runs one; the one holding `chains-coordinator` (under its lease, see
 * coordinator-seat.ts) follows the definitions and the membership, runs `planPlacement` on every
 * change and on an interval, and applies the actions through the `ChainDirectory`, a bounded
 * number at a time, each a compare-and-swap at the revision it planned on and fenced by the seat.
 */
import { CHAINS_COORDINATOR_KEY, type ControlCompare } from '../control/index.js';
import type { Clock, Logger, NodeId, Random } from '../lib/index.js';
import type { ChainFollower } from './chain-follower.js';
import { LeasedSeat, type SeatTerm } from './coordinator-seat.js';
import type { ChainDirectory } from './directory.js';
import { ChainConflictError, ChainFencedError, ChainNotFoundError } from './errors.js';
import { matrixLeaderChoice } from './failover.js';
import type { LearnerProgress } from './learner-progress.js';
import {
  type PlacementAction,
  type PlacementBlocked,
  type PlacementNode,
  planPlacement,
} from './placement.js';
import type { ProximityMatrix } from './proximity-matrix.js';
import type { StoredChain } from './stored-chain.js';

/** How long a node must have been gone before its replicas are replaced. */
export const DEFAULT_CHAIN_GRACE_PERIOD_MS = 60_000;
/** Bounds of a configured grace period: past a second (a restart should not cost a replica), within a week. */
export const MIN_CHAIN_GRACE_PERIOD_MS = 1_000;
export const MAX_CHAIN_GRACE_PERIOD_MS = 7 * 24 * 3_600_000;
/** The coordinator plans again at least this often (grace periods run out without an event). */
export const DEFAULT_COORDINATOR_PLAN_INTERVAL_MS = 5_000;
/** TTL of the lease the coordinator key is held under. */
export const DEFAULT_COORDINATOR_LEASE_TTL_SECONDS = 5;
/** Actions applied at once. */
export const MAX_COORDINATOR_ACTIONS_IN_FLIGHT = 8;

/** What is wrong with a configured grace period (empty when nothing). */
export function chainGracePeriodProblems(gracePeriodMs: number): string[] {
  if (
    Number.isSafeInteger(gracePeriodMs) &&
    gracePeriodMs >= MIN_CHAIN_GRACE_PERIOD_MS &&
    gracePeriodMs <= MAX_CHAIN_GRACE_PERIOD_MS
  )
    return [];
  return [
    `the chain repair grace period must be whole milliseconds from ${MIN_CHAIN_GRACE_PERIOD_MS} to ${MAX_CHAIN_GRACE_PERIOD_MS}, got ${gracePeriodMs}`,
  ];
}

/** The mesh's nodes as the coordinator needs them (the node's `MembershipView`, adapted). */
export interface CoordinatorMembership {
  /** Every registered node; `healthy` false while it is suspected; `maxChains` its chain limit. */
  nodes(): readonly Omit<PlacementNode, 'goneSinceMs'>[];
  /** Calls `listener` on every change; returns an unsubscribe. */
  onChange(listener: () => void): () => void;
}

/** The node a repair step concerns: the one replaced, or the learner removed. */
function replacedNodeOf(action: Exclude<PlacementAction, { type: 'place' | 'elect' }>): NodeId {
  switch (action.type) {
    case 'add-learner':
      return action.replacing;
    case 'promote-learner':
      return action.replaced;
    case 'remove-learner':
      return action.node;
  }
}

/** What became of one applied action. */
export interface CoordinatorActionRecord {
  readonly action: PlacementAction;
  /** `conflict`: the definition changed first; `failed`: see the log. */
  readonly outcome: 'applied' | 'conflict' | 'fenced' | 'failed';
}

export interface ChainCoordinatorOptions {
  readonly directory: ChainDirectory;
  readonly self: NodeId;
  readonly membership: CoordinatorMembership;
  readonly progress: LearnerProgress;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  /** The shared RTT matrix: leaders are chosen from it, new learners placed near the origin. */
  readonly proximity?: () => ProximityMatrix | undefined;
  readonly gracePeriodMs?: number;
  readonly planIntervalMs?: number;
  readonly leaseTtlSeconds?: number;
  readonly maxActionsInFlight?: number;
  /** Called after each action applied (or refused), in order of completion. */
  readonly onAction?: (record: CoordinatorActionRecord) => void;
  /**
   * False: leaders are elected here, and the replicas of a node draining for maintenance re-homed
   * (the drain's part); replacing those of a node gone past the grace period is the mesh's
   * reconciler's (docs/RECONCILE.md). True by default: every repair here.
   */
  readonly repairsReplicas?: boolean;
}

export class ChainCoordinator {
  private readonly seat: LeasedSeat;
  private readonly chains = new Map<string, StoredChain>();
  /** Nodes chains name that are not registered, and since when (this coordinator's clock). */
  private readonly goneSinceMs = new Map<NodeId, number>();
  private planning: Promise<void> | undefined;
  private planAgain = false;
  private loaded = false;
  private blockedReasons = new Map<string, string>();
  /** Actions this node applied while coordinating. */
  applied = 0;

  constructor(private readonly options: ChainCoordinatorOptions) {
    this.seat = new LeasedSeat({
      plane: options.directory.plane,
      key: CHAINS_COORDINATOR_KEY,
      self: options.self,
      leaseTtlSeconds: options.leaseTtlSeconds ?? DEFAULT_COORDINATOR_LEASE_TTL_SECONDS,
      clock: options.clock,
      random: options.random,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      hold: (term) => this.coordinate(term),
    });
  }

  /** Whether this node holds the coordinator key now. */
  get coordinating(): boolean {
    return this.seat.holding;
  }

  /** Contends for the key in the background, and coordinates while holding it. */
  start(): void {
    this.seat.start();
  }

  /** Stops coordinating (the key is released at once) and contending. */
  stop(): Promise<void> {
    return this.seat.stop();
  }

  /** One term: follow, plan on changes and on the interval, until the term ends. */
  private async coordinate(term: SeatTerm): Promise<void> {
    const { directory, membership, progress, clock } = this.options;
    this.chains.clear();
    this.goneSinceMs.clear();
    this.loaded = false;
    const replan = () => this.schedulePlan(term);
    const follower: ChainFollower = directory.follow({
      onReset: (chains) => {
        this.chains.clear();
        for (const [name, chain] of chains) this.chains.set(name, chain);
        this.loaded = true;
        replan();
      },
      onChange: (change) => {
        if (change.type === 'delete') this.chains.delete(change.name);
        else this.remember(change.chain);
        replan();
      },
      onError: (error) => term.end(`following the definitions failed: ${error.message}`),
    });
    const unsubscribe = [membership.onChange(replan), progress.onChange(replan)];
    const intervalMs = this.options.planIntervalMs ?? DEFAULT_COORDINATOR_PLAN_INTERVAL_MS;
    let timer = clock.setTimer(intervalMs, function tick() {
      replan();
      timer = clock.setTimer(intervalMs, tick);
    });
    try {
      await term.ended;
    } finally {
      clock.clearTimer(timer);
      for (const stop of unsubscribe) stop();
      follower.stop();
      await this.planning;
    }
  }

  /** A definition this node wrote or saw: kept unless an older revision than the one held. */
  private remember(chain: StoredChain): void {
    const held = this.chains.get(chain.definition.name);
    if (held === undefined || held.modRevision < chain.modRevision)
      this.chains.set(chain.definition.name, chain);
  }

  private schedulePlan(term: SeatTerm): void {
    this.noteDepartures();
    if (!this.loaded) return;
    if (this.planning !== undefined) {
      this.planAgain = true;
      return;
    }
    this.planning = (async () => {
      do {
        this.planAgain = false;
        await this.planOnce(term);
      } while (this.planAgain && this.seat.holding);
    })()
      .catch((error: unknown) => {
        this.options.logger?.error({ err: error }, 'chains coordinator: planning failed');
      })
      .finally(() => {
        this.planning = undefined;
      });
  }

  /** Starts the grace period of every node a chain names that is no longer registered. */
  private noteDepartures(): void {
    const registered = new Set(this.options.membership.nodes().map((node) => node.id));
    const named = new Set<NodeId>();
    for (const { definition } of this.chains.values()) {
      for (const node of [...definition.replicas, ...(definition.learners ?? [])]) named.add(node);
    }
    const nowMs = this.options.clock.nowMs();
    for (const node of named) {
      if (!registered.has(node) && !this.goneSinceMs.has(node)) this.goneSinceMs.set(node, nowMs);
    }
    for (const node of this.goneSinceMs.keys()) {
      if (registered.has(node) || !named.has(node)) this.goneSinceMs.delete(node);
    }
  }

  private placementNodes(): PlacementNode[] {
    const nodes: PlacementNode[] = [...this.options.membership.nodes()];
    for (const [id, goneSinceMs] of this.goneSinceMs) nodes.push({ id, healthy: false, goneSinceMs });
    return nodes;
  }

  private async planOnce(term: SeatTerm): Promise<void> {
    const { progress, proximity, clock } = this.options;
    await progress.refresh?.([...this.chains.values()].map((chain) => chain.definition));
    if (!this.seat.holding) return;
    // Actions are compare-and-swaps at the revisions planned on: this snapshot's.
    const snapshot = new Map(this.chains);
    const chains = [...snapshot.values()].map((chain) => chain.definition);
    const caughtUpLearners = new Map(chains.map((chain) => [chain.name, progress.caughtUp(chain.name)]));
    const matrix = proximity?.();
    const plan = planPlacement({
      chains,
      nodes: this.placementNodes(),
      caughtUpLearners,
      nowMs: clock.nowMs(),
      gracePeriodMs: this.options.gracePeriodMs ?? DEFAULT_CHAIN_GRACE_PERIOD_MS,
      ...(proximity === undefined ? {} : { chooseLeader: matrixLeaderChoice(proximity) }),
      ...(matrix === undefined
        ? {}
        : { rttMs: (from: NodeId, to: NodeId) => matrix.rows.get(from)?.peers.get(to)?.rttMs }),
    });
    this.logNewlyBlocked(plan.blocked);
    const leaving = new Set(
      this.options.membership
        .nodes()
        .filter((node) => node.leaving === true)
        .map((node) => node.id),
    );
    const queue = plan.actions.filter(
      (action) =>
        this.options.repairsReplicas !== false ||
        action.type === 'elect' ||
        (action.type !== 'place' && leaving.has(replacedNodeOf(action))),
    );
    const workers = Math.min(
      queue.length,
      this.options.maxActionsInFlight ?? MAX_COORDINATOR_ACTIONS_IN_FLIGHT,
    );
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let action = queue.shift(); action !== undefined; action = queue.shift()) {
          if (!this.seat.holding) return;
          await this.apply(action, snapshot.get(action.name), term);
        }
      }),
    );
  }

  /** Logs a blocked chain when it becomes blocked or its reason changes, not on every plan. */
  private logNewlyBlocked(blocked: readonly PlacementBlocked[]): void {
    const reasons = new Map(blocked.map((entry) => [entry.name, entry.reason]));
    for (const [name, reason] of reasons) {
      if (this.blockedReasons.get(name) !== reason) {
        this.options.logger?.warn({ chain: name, reason }, 'chains coordinator: chain blocked');
      }
    }
    this.blockedReasons = reasons;
  }

  private async apply(
    action: PlacementAction,
    planned: StoredChain | undefined,
    term: SeatTerm,
  ): Promise<void> {
    const { logger } = this.options;
    let outcome: CoordinatorActionRecord['outcome'];
    try {
      const chain = planned === undefined ? undefined : await this.write(action, planned, term.fence);
      if (chain === undefined) {
        outcome = 'conflict';
      } else {
        this.remember(chain);
        this.applied += 1;
        outcome = 'applied';
      }
    } catch (error) {
      if (error instanceof ChainFencedError) {
        outcome = 'fenced';
        term.end('a write found the seat lost');
      } else if (error instanceof ChainConflictError || error instanceof ChainNotFoundError) {
        outcome = 'conflict';
      } else {
        outcome = 'failed';
        logger?.warn({ err: error, action }, 'chains coordinator: action failed');
      }
    }
    logger?.info({ action, outcome }, 'chains coordinator: action');
    this.options.onAction?.({ action, outcome });
  }

  /** The action as a compare-and-swap at the revision planned on; undefined when it lost. */
  private async write(
    action: PlacementAction,
    planned: StoredChain,
    fence: readonly ControlCompare[],
  ): Promise<StoredChain | undefined> {
    const { directory } = this.options;
    const options = { expectedModRevision: planned.modRevision, fence };
    switch (action.type) {
      case 'elect': {
        const answer = await directory.proposeNextEpoch(action.name, { ...options, leader: action.leader });
        return answer.outcome === 'won' ? answer.chain : undefined;
      }
      case 'add-learner':
        return directory.addLearner(action.name, action.node, options);
      case 'remove-learner':
        return directory.removeLearner(action.name, action.node, options);
      case 'promote-learner':
        return directory.promoteLearner(action.name, action.learner, action.replaced, options);
      case 'place':
        // The coordinator plans no new chains: creation places them (placeNewChain).
        return undefined;
    }
  }
}
