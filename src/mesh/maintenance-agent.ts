/**
 * `MaintenanceAgent`: every node drives its own maintenance machine (docs/RECONCILE.md
 * "Maintenance on a running mesh"). On each change of its record and every
 * MAINTENANCE_CHECK_INTERVAL_MS it takes the machine's next transition
 * (`nextMaintenanceTransition`, the function reconcile's maintenance step uses) from the
 * operator's request, what the node still holds and the wall clock, and commits it through the
 * maintenance store (a compare-and-swap; a repeated commit is a no-op). While the node is
 * EnteringMaintenance it moves its daemon members away (`planDaemonDrain`); its chain replicas
 * are re-homed by the chain coordinator, which sees it leaving, and its blob copies by the
 * reconciler (copies on a draining node stop counting): the drain waits until every blob it holds
 * has its replica count on other nodes. Past the deadline with anything
 * left, the transition is DrainFailed, naming what is left and why it did not move.
 *
 * The node itself drains because it runs the actives a move starts from and knows what it holds;
 * the commit is the one the reconcile service's maintenance owner makes, so both may run.
 */
import type { ChainDefinition } from '../chains/index.js';
import { type StoredDaemon, withMemberOn, withReplacedMember } from '../daemons/directory.js';
import type { DaemonPlacementNode } from '../daemons/placement.js';
import type { Clock, Logger, NodeId, TimerId } from '../lib/index.js';
import {
  ACTIVE,
  type DrainProgress,
  type MaintenanceRequest,
  type MaintenanceState,
  nextMaintenanceTransition,
} from '../reconcile/index.js';
import { type DaemonDrainStep, planDaemonDrain } from './maintenance-drain-plan.js';
import { type BlobHolders, describeHoldings, holdingsOf, neededBlobCopies } from './maintenance-holdings.js';
import { type MaintenanceRecord, maintenanceRequestOf } from './maintenance-record.js';

/** The agent looks again at least this often (deadlines and ramp-ups end without an event). */
export const MAINTENANCE_CHECK_INTERVAL_MS = 500;
/** Budget of one move of an active during a drain (less when the drain deadline is nearer). */
export const DRAIN_MOVE_TIMEOUT_MS = 30_000;
/** A move is not started with less than this left before the drain deadline. */
export const MIN_DRAIN_MOVE_BUDGET_MS = 1_000;

/** What the agent does to daemons: the node's daemons service and the definitions in the plane. */
export interface DrainDaemons {
  /** Every deployed daemon's definition with its revision. */
  list(): Promise<readonly StoredDaemon[]>;
  /** What each member of `name` reported it applied, by member index. */
  syncedThrough(name: string): Promise<ReadonlyMap<number, number>>;
  /** `daemon move NAME --to NODE`, run from this node (it runs the active). */
  move(name: string, to: NodeId, timeoutMs: number): Promise<void>;
  /** Compare-and-swap of a definition; false when it changed since it was read. */
  swap(stored: StoredDaemon, next: StoredDaemon['definition']): Promise<boolean>;
}

export interface MaintenanceAgentOptions {
  readonly self: NodeId;
  /** The node's record as followed (`MaintenanceView`), and its changes. */
  readonly record: () => MaintenanceRecord | undefined;
  readonly onChange: (listener: () => void) => () => void;
  /** Commits a transition of this node's machine (`MaintenanceStore.commit`). */
  readonly commit: (target: MaintenanceState) => Promise<unknown>;
  readonly daemons: DrainDaemons;
  /** Every chain's definition. */
  readonly chains: () => Promise<readonly ChainDefinition[]>;
  /** Every node, `healthy` and `placeable` as placement sees them. */
  readonly nodes: () => readonly DaemonPlacementNode[];
  /** Every blob's record (absent: a node without blobs); the drain waits for copies they need. */
  readonly blobs?: () => Promise<readonly BlobHolders[]>;
  /** Whether `node`'s blob copies count toward a replica count (up and not draining). */
  readonly keepsCopies?: (node: NodeId) => boolean;
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly intervalMs?: number;
}

export class MaintenanceAgent {
  private timer: TimerId | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  /** Why a member did not move, by `daemon/index`, for the DrainFailed reason. */
  private readonly blocked = new Map<string, string>();
  /** Transitions this agent committed. */
  transitions = 0;

  constructor(private readonly options: MaintenanceAgentOptions) {}

  start(): void {
    this.unsubscribe = this.options.onChange(() => this.wake());
    const intervalMs = this.options.intervalMs ?? MAINTENANCE_CHECK_INTERVAL_MS;
    const tick = (): void => {
      this.wake();
      if (!this.stopped) this.timer = this.options.clock.setTimer(intervalMs, tick);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer);
    await this.running;
  }

  /** Runs a step now, or once more after the one running (steps never overlap). */
  wake(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.step().catch((error: unknown) =>
          this.options.logger?.warn({ err: error }, 'maintenance: a drain step failed; trying again'),
        );
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** One look: drain while entering, then the machine's next transition, committed. */
  async step(): Promise<void> {
    const { record: recordOf, clock, commit, logger, self } = this.options;
    const record = recordOf();
    const state = record?.state ?? ACTIVE;
    const request = maintenanceRequestOf(record);
    if (isIdle(state, request)) return;
    let left: DrainProgress = { daemons: 0, replicas: 0 };
    if (state.phase === 'EnteringMaintenance') {
      await this.drain(state.deadlineWallMs);
      left = await this.left();
    }
    const next = nextMaintenanceTransition(state, request, left, Math.floor(clock.wallMs()));
    if (next === undefined) return;
    await commit(next);
    this.transitions += 1;
    logger?.info({ node: self, from: state.phase, to: next }, 'maintenance: transition committed');
    if (next.phase !== 'EnteringMaintenance') this.blocked.clear();
  }

  /** What the node still holds, and why each thing left did not move when that is known. */
  private async left(): Promise<DrainProgress> {
    const { self, nodes } = this.options;
    const { blobs, keepsCopies } = this.options;
    const [daemons, chains, records] = await Promise.all([
      this.options.daemons.list(),
      this.options.chains(),
      blobs?.() ?? [],
    ]);
    const holdings = holdingsOf(
      self,
      daemons.map((stored) => stored.definition),
      chains,
      neededBlobCopies(self, records, keepsCopies ?? (() => true)),
    );
    const takers = nodes()
      .filter((node) => node.healthy && node.placeable !== false)
      .map((node) => node.id);
    const byName = new Map(chains.map((chain) => [chain.name, chain]));
    return {
      daemons: holdings.daemons.length,
      replicas: holdings.chains.length,
      blobs: holdings.blobs.length,
      left: describeHoldings(holdings, {
        daemon: (member) => this.blocked.get(`${member.daemon}/${member.index}`),
        chain: (replica) => {
          const chain = byName.get(replica.chain);
          const taken = new Set([...(chain?.replicas ?? []), ...(chain?.learners ?? [])]);
          return takers.some((node) => !taken.has(node))
            ? undefined
            : 'no healthy Active node outside its replicas to re-home it to';
        },
      }),
    };
  }

  /** Moves each daemon member off this node, one step per daemon, within the deadline. */
  private async drain(deadlineWallMs: number): Promise<void> {
    const { daemons, self, nodes, clock } = this.options;
    if (clock.wallMs() >= deadlineWallMs) return;
    const stored = await daemons.list();
    const synced = new Map<string, ReadonlyMap<number, number>>();
    for (const { definition } of stored) {
      const activeHere = definition.members.some(
        (member) => member.node === self && member.index === definition.active,
      );
      if (activeHere)
        synced.set(definition.name, await daemons.syncedThrough(definition.name).catch(() => new Map()));
    }
    const steps = planDaemonDrain({
      node: self,
      definitions: stored.map((entry) => entry.definition),
      nodes: nodes(),
      syncedThrough: (name, index) => synced.get(name)?.get(index),
    });
    const held = new Set(steps.map((step) => `${step.daemon}/${step.index}`));
    for (const key of this.blocked.keys()) if (!held.has(key)) this.blocked.delete(key);
    const byName = new Map(stored.map((entry) => [entry.definition.name, entry]));
    for (const step of steps) {
      if (this.stopped) return;
      const reason = await this.carryOut(step, byName.get(step.daemon), deadlineWallMs);
      const key = `${step.daemon}/${step.index}`;
      if (reason === undefined) this.blocked.delete(key);
      else this.blocked.set(key, reason);
    }
  }

  /** Carries out one step; answers why it did not happen (undefined when it did). */
  private async carryOut(
    step: DaemonDrainStep,
    stored: StoredDaemon | undefined,
    deadlineWallMs: number,
  ): Promise<string | undefined> {
    const { daemons, clock, logger } = this.options;
    if (step.type === 'stuck') return step.reason;
    if (stored === undefined) return undefined;
    try {
      if (step.type === 'move-active') {
        const budgetMs = Math.min(DRAIN_MOVE_TIMEOUT_MS, Math.floor(deadlineWallMs - clock.wallMs()));
        if (budgetMs < MIN_DRAIN_MOVE_BUDGET_MS)
          return `too little time left to move the active to node ${step.to}`;
        await daemons.move(step.daemon, step.to, budgetMs);
      } else {
        const next =
          step.type === 'rehome-standby'
            ? withReplacedMember(stored.definition, step.index, step.to)
            : withMemberOn(stored.definition, step.index, step.to);
        if (!(await daemons.swap(stored, next))) return 'its definition changed meanwhile (tried again)';
      }
      logger?.info({ step }, 'maintenance: drained a daemon member');
      return undefined;
    } catch (error) {
      return `${step.type} to node ${step.to} failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}

/** Nothing to do: Active, drained or failed, and nothing else asked for. */
function isIdle(state: MaintenanceState, request: MaintenanceRequest | undefined): boolean {
  switch (state.phase) {
    case 'Active':
      return request?.target !== 'maintenance';
    case 'Maintenance':
    case 'DrainFailed':
      return request?.target !== 'active';
    default:
      return false;
  }
}
