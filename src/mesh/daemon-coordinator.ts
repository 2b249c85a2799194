/**
 * Failover of deployed daemons (docs/DAEMONS.md "Failover"). Every node runs a
 * `DaemonCoordinator`; the one holding `daemons-coordinator` (a leased seat, like the chains
 * coordinator's) acts, and so does the healthy node of smallest id in its own view (the seat's
 * lease would otherwise hold a failover up when its holder died with the active; two proposers
 * race on one compare-and-swap and one wins): whenever the membership or the definitions change, and every
 * `DAEMON_COORDINATOR_CHECK_INTERVAL_MS`, it looks for daemons whose active's node is not
 * healthy (its registration gone with its lease, or suspected after a lost connection, the
 * early hint) and promotes the standby that applied the most (`chooseFailoverMember`) by a
 * compare-and-swap of the definition that raises the epoch, fenced by the seat; the same
 * transaction starts the next epoch of the daemon's chains not led by the new active's node,
 * led by it (`chainTakeover`). The promoted member starts stamping its events with the new
 * epoch; from its first one on the inbound chain, whatever the old active still appends is
 * refused by every member (the epoch rule). Members whose node is gone past the repair grace
 * period are re-placed on other nodes by the reconciler (`StartDaemon`, reconcile-daemons-owner.ts).
 */
import { LeasedSeat, type SeatTerm, type StoredChain } from '../chains/index.js';
import { type ControlPlane, DAEMONS_COORDINATOR_KEY } from '../control/index.js';
import { memberChains } from '../daemons/chain-names.js';
import type { DaemonDirectory, StoredDaemon } from '../daemons/directory.js';
import { memberNode, withActive, withMemberOn } from '../daemons/directory.js';
import {
  chooseFailoverMember,
  chooseReplicaRelocation,
  type DaemonPlacementNode,
  healthyNodeIds,
} from '../daemons/placement.js';
import type { DaemonDefinition } from '../daemons/types.js';
import type { Clock, Logger, NodeId, Random } from '../lib/index.js';
import { chainTakeover } from './daemon-chain-takeover.js';

/** How often the seat holder looks at every daemon even when nothing changed. */
export const DAEMON_COORDINATOR_CHECK_INTERVAL_MS = 1_000;
/**
 * The seat's lease: a holder that stops renewing loses the seat this long after. Short (the
 * plane's minimum), because when the holder's node is also the active's, a failover waits for it.
 */
export const DAEMON_COORDINATOR_LEASE_TTL_SECONDS = 2;
/** Promotion transactions tried when a chain's own failover changed the chain first. */
export const MAX_PROMOTION_ATTEMPTS = 3;

export interface DaemonCoordinatorOptions {
  readonly plane: ControlPlane;
  readonly directory: DaemonDirectory;
  readonly self: NodeId;
  readonly definitions: () => ReadonlyMap<string, StoredDaemon>;
  readonly nodes: () => readonly DaemonPlacementNode[];
  /** Calls `listener` when the nodes change; returns an unsubscribe. */
  readonly onNodesChange: (listener: () => void) => () => void;
  /** What the member of a daemon on a node has applied; rejects or undefined when it cannot tell. */
  readonly progressOf: (
    name: string,
    node: NodeId,
  ) => Promise<{ index: number; syncedThrough: number } | undefined>;
  readonly rttMs: (node: NodeId) => number | undefined;
  /**
   * The definitions of the daemon's chains: a promotion also starts the next epoch of those not
   * led by the new active's node, led by it, in the same transaction (`chainTakeover`), so the
   * daemon's appends need not wait for the chains' own failover nor pay a hop to another node.
   */
  readonly chainsOf?: (daemon: DaemonDefinition) => Promise<readonly StoredChain[]>;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
}

export class DaemonCoordinator {
  private readonly seat: LeasedSeat;
  private wake: (() => void) | undefined;
  /** Whether something changed since the last check began. */
  private changed = false;
  private term: SeatTerm | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Promotions this node committed. */
  promotions = 0;
  /** Replica-group members this node moved off a lost node. */
  relocations = 0;

  constructor(private readonly options: DaemonCoordinatorOptions) {
    this.seat = new LeasedSeat({
      plane: options.plane,
      key: DAEMONS_COORDINATOR_KEY,
      self: options.self,
      leaseTtlSeconds: DAEMON_COORDINATOR_LEASE_TTL_SECONDS,
      clock: options.clock,
      random: options.random,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      hold: (term) => this.hold(term),
    });
  }

  get holding(): boolean {
    return this.term !== undefined;
  }

  start(): void {
    this.seat.start();
    this.loop ??= this.run();
  }

  /** Something changed (definitions): look again now. */
  notify(): void {
    // A change during a check is looked at right after it, not an interval later.
    this.changed = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.notify();
    await this.seat.stop();
    await this.loop;
  }

  /** While seated, this node acts on every check; the term's fence goes with its writes. */
  private async hold(term: SeatTerm): Promise<void> {
    this.term = term;
    this.notify();
    await term.ended;
    if (this.term === term) this.term = undefined;
  }

  /** Checks on every change and every interval until stopped. */
  private async run(): Promise<void> {
    const { clock } = this.options;
    const unsubscribe = this.options.onNodesChange(() => this.notify());
    try {
      while (!this.stopped) {
        this.changed = false;
        await this.check();
        if (this.stopped) break;
        if (this.changed) continue;
        await new Promise<void>((resolve) => {
          const timer = clock.setTimer(DAEMON_COORDINATOR_CHECK_INTERVAL_MS, () => {
            this.wake = undefined;
            resolve();
          });
          this.wake = () => {
            clock.clearTimer(timer);
            resolve();
          };
        });
      }
    } finally {
      unsubscribe();
    }
  }

  /**
   * Promotes a standby of every daemon whose active's node is not healthy and moves each
   * replica-group member whose node is not healthy to a free node.
   */
  private async check(): Promise<void> {
    const nodes = this.options.nodes();
    const healthy = healthyNodeIds(nodes);
    const daemons = [...this.options.definitions().values()];
    const term = this.term;
    // The seat holder acts; so does the healthy node of smallest id in this node's view, so a
    // failover does not wait for the seat's lease when the holder died with the active.
    if (term === undefined && Math.min(...healthy) !== this.options.self) return;
    await this.relocateReplicas(daemons, nodes, term);
    for (const stored of daemons) {
      const { definition } = stored;
      const activeNode = memberNode(definition, definition.active);
      if (activeNode === undefined || healthy.has(activeNode)) continue;
      try {
        await this.failover(stored, healthy, term);
      } catch (error) {
        this.options.logger?.warn(
          { err: error, daemon: definition.name },
          'daemons: failover attempt failed',
        );
      }
    }
  }

  private async failover(
    stored: StoredDaemon,
    healthy: ReadonlySet<NodeId>,
    term: SeatTerm | undefined,
  ): Promise<void> {
    const { clock, logger } = this.options;
    const startedMs = clock.nowMs();
    // The standbys' progress and the chains' definitions are asked at once: both are needed
    // before the one transaction that promotes.
    const [syncedThrough, chainsAsked] = await Promise.all([
      this.standbyProgress(stored.definition, healthy),
      this.chainsOf(stored.definition),
    ]);
    const askedMs = clock.nowMs();
    let chains = chainsAsked;
    const { definition } = stored;
    const chosen = chooseFailoverMember({
      definition,
      healthy: (node) => healthy.has(node),
      syncedThrough,
      rttMs: this.options.rttMs,
    });
    const leader = memberNode(definition, chosen);
    if (chosen === undefined || leader === undefined) {
      logger?.warn(
        { daemon: definition.name, epoch: definition.epoch },
        'daemons: the active is gone and no standby can take over',
      );
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const takeover = chainTakeover(chains, leader);
      const answer = await this.options.directory.swap(
        stored,
        withActive(definition, chosen),
        term?.fence ?? [],
        takeover,
      );
      if (answer.applied) {
        this.promotions += 1;
        logger?.info(
          {
            daemon: definition.name,
            epoch: answer.daemon.definition.epoch,
            active: chosen,
            node: leader,
            syncedThrough: syncedThrough.get(chosen),
            chainsLed: takeover.chains,
            askedMs: Math.round(askedMs - startedMs),
            committedMs: Math.round(clock.nowMs() - startedMs),
          },
          'daemons: promoted a standby',
        );
        return;
      }
      // Another writer changed the definition first: nothing more to do here.
      if (!answer.fenced) return;
      // The definition unchanged: the seat was lost, or a chain's own failover came first.
      if (takeover.chains.length === 0) {
        term?.end('a write found the seat taken');
        return;
      }
      if (attempt >= MAX_PROMOTION_ATTEMPTS) return;
      chains = await this.chainsOf(definition);
    }
  }

  /** What each healthy standby reports it applied, by member index (no report: left out). */
  private async standbyProgress(
    definition: DaemonDefinition,
    healthy: ReadonlySet<NodeId>,
  ): Promise<Map<number, number>> {
    const reports = await Promise.all(
      definition.members
        .filter((member) => member.index !== definition.active && healthy.has(member.node))
        .map(async (member) => {
          const progress = await this.options.progressOf(definition.name, member.node).catch(() => undefined);
          return progress?.index === member.index
            ? ([member.index, progress.syncedThrough] as const)
            : undefined;
        }),
    );
    return new Map(reports.filter((report) => report !== undefined));
  }

  /** The daemon's chains as the control plane holds them (none known: the promotion goes alone). */
  private async chainsOf(definition: DaemonDefinition): Promise<readonly StoredChain[]> {
    return (await this.options.chainsOf?.(definition).catch(() => undefined)) ?? [];
  }

  /**
   * A replica member whose node is not healthy is placed on a free healthy node
   * (`chooseReplicaRelocation`) by a compare-and-swap that raises the epoch, as a promotion does
   * (each replica member takes events as an active does), with the member's chains taken over by
   * the new node in the same transaction. The new node's member replays the member's own inbound
   * chain and stamps the new epoch, so a cut-off old node's later appends are refused by the
   * epoch rule.
   */
  private async relocateReplicas(
    daemons: readonly StoredDaemon[],
    nodes: readonly DaemonPlacementNode[],
    term: SeatTerm | undefined,
  ): Promise<void> {
    const existing = daemons.map((stored) => stored.definition);
    for (const stored of daemons) {
      const { definition } = stored;
      if (definition.group !== 'replica') continue;
      const move = chooseReplicaRelocation({ definition, nodes, existing });
      if (move === undefined) continue;
      try {
        const own = memberChains(definition, move.index);
        const chains = (await this.chainsOf(definition)).filter(
          (chain) => chain.definition.name === own.inbound || chain.definition.name === own.outputs,
        );
        const next = withMemberOn(definition, move.index, move.node);
        const takeover = chainTakeover(chains, move.node);
        const answer = await this.options.directory.swap(stored, next, term?.fence ?? [], takeover);
        if (answer.applied) {
          this.relocations += 1;
          this.options.logger?.info(
            { daemon: definition.name, epoch: next.epoch, member: move.index, node: move.node },
            'daemons: moved a replica member off a lost node',
          );
        } else if (answer.fenced && takeover.chains.length === 0) {
          term?.end('a write found the seat taken');
        }
      } catch (error) {
        this.options.logger?.warn(
          { err: error, daemon: definition.name },
          'daemons: moving a replica member failed',
        );
      }
    }
  }
}
