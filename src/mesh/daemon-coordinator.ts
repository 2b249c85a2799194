/**
 * Failover of deployed daemons (docs/DAEMONS.md "Failover"). Every node runs a
 * `DaemonCoordinator`; the one holding `daemons-coordinator` (a leased seat, like the chains
 * coordinator's) acts, and so does the healthy node of smallest id in its own view (the seat's
 * lease would otherwise hold a failover up when its holder died with the active; two proposers
 * race on one compare-and-swap and one wins): whenever the membership or the definitions change, and every
 * `DAEMON_COORDINATOR_CHECK_INTERVAL_MS`, it looks for daemons whose active's node is not
 * healthy (its registration gone with its lease, or suspected after a lost connection, the
 * early hint) and promotes the standby that applied the most (`chooseFailoverMember`) by a
 * compare-and-swap of the definition that raises the epoch, fenced by the seat. The promoted
 * member starts stamping its events with the new epoch; from its first one on the inbound
 * chain, whatever the old active still appends is refused by every member (the epoch rule).
 */
import { LeasedSeat, type SeatTerm } from '../chains/index.js';
import { type ControlPlane, DAEMONS_COORDINATOR_KEY } from '../control/index.js';
import { daemonChainNames } from '../daemons/chain-names.js';
import type { DaemonDirectory, StoredDaemon } from '../daemons/directory.js';
import { memberNode, withActive } from '../daemons/directory.js';
import { chooseFailoverMember, type DaemonPlacementNode, healthyNodeIds } from '../daemons/placement.js';
import type { Clock, Logger, NodeId, Random } from '../lib/index.js';

/** How often the seat holder looks at every daemon even when nothing changed. */
export const DAEMON_COORDINATOR_CHECK_INTERVAL_MS = 1_000;
/**
 * The seat's lease: a holder that stops renewing loses the seat this long after. Short (the
 * plane's minimum), because when the holder's node is also the active's, a failover waits for it.
 */
export const DAEMON_COORDINATOR_LEASE_TTL_SECONDS = 2;

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
   * After a promotion: proposes `leader` (the new active's node) to lead `chain` when the chain's
   * leader is not among `healthy` nodes, so the daemon's appends need not wait for the chain's
   * own failover (a compare-and-swap of the chain's epoch, as any chain failover proposer makes).
   */
  readonly leadChain?: (chain: string, leader: NodeId, healthy: ReadonlySet<NodeId>) => Promise<void>;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
}

export class DaemonCoordinator {
  private readonly seat: LeasedSeat;
  private wake: (() => void) | undefined;
  private term: SeatTerm | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Promotions this node committed. */
  promotions = 0;

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
        await this.check();
        if (this.stopped) break;
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

  /** Promotes a standby of every daemon whose active's node is not healthy. */
  private async check(): Promise<void> {
    const healthy = healthyNodeIds(this.options.nodes());
    const term = this.term;
    // The seat holder acts; so does the healthy node of smallest id in this node's view, so a
    // failover does not wait for the seat's lease when the holder died with the active.
    if (term === undefined && Math.min(...healthy) !== this.options.self) return;
    for (const stored of this.options.definitions().values()) {
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
    const { definition } = stored;
    const { logger } = this.options;
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
    const syncedThrough = new Map(reports.filter((report) => report !== undefined));
    const chosen = chooseFailoverMember({
      definition,
      healthy: (node) => healthy.has(node),
      syncedThrough,
      rttMs: this.options.rttMs,
    });
    if (chosen === undefined) {
      logger?.warn(
        { daemon: definition.name, epoch: definition.epoch },
        'daemons: the active is gone and no standby can take over',
      );
      return;
    }
    const answer = await this.options.directory.swap(
      stored,
      withActive(definition, chosen),
      term?.fence ?? [],
    );
    if (answer.applied) {
      this.promotions += 1;
      const leader = memberNode(definition, chosen);
      if (leader !== undefined && this.options.leadChain !== undefined) {
        for (const chain of daemonChainNames(definition.name)) {
          await this.options.leadChain(chain, leader, healthy).catch((error: unknown) => {
            logger?.warn(
              { err: error, chain },
              'daemons: proposing the new active as the chain leader failed',
            );
          });
        }
      }
      logger?.info(
        {
          daemon: definition.name,
          epoch: answer.daemon.definition.epoch,
          active: chosen,
          syncedThrough: syncedThrough.get(chosen),
        },
        'daemons: promoted a standby',
      );
    } else if (answer.fenced) {
      term?.end('a write found the seat taken');
    }
  }
}
