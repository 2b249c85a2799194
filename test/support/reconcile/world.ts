/**
 * A simulated mesh for the reconcile model tests: nodes with daemons and replicas, chains with
 * members and a leader, blobs, RTT rows, an avoid list, a clock, and a real ActionExecutor whose
 * owners (sim-owners.ts) carry actions out on this world. `round()` is one reconcile pass: observe,
 * reconcile, submit, drain the executor over the round's ticks, then let the rest of the system
 * move (daemons started in the round run, replicas catch up, a chain without a live leader
 * elects one).
 */
import type { NodeId } from '../../../src/lib/index.js';
import {
  ACTIVE,
  ActionExecutor,
  ActionIds,
  AvoidList,
  type DesiredState,
  type MaintenanceRequest,
  type MaintenanceState,
  type ObservedState,
  type PendingAction,
  type ReconcileResult,
  type ReconcileTime,
  reconcile,
} from '../../../src/reconcile/index.js';
import { simulatedOwners } from './sim-owners.js';

/** One round of the simulation: a reconcile pass and the executor's ticks until the next. */
export const ROUND_MS = 1_000;
export const TICK_MS = 250;
/** The wall clock reads the monotonic clock plus this (two different clocks, as in a process). */
export const WALL_OFFSET_MS = 1_700_000_000_000;
/** Lag a freshly pulled replica starts with; it catches up at the end of the round. */
export const PULLED_REPLICA_LAG_RECORDS = 5;
export const FAST_RTT_MS = 1;
export const SLOW_RTT_MS = 400;

export interface WorldDaemon {
  running: boolean;
  /** Started in this round: it runs from the end of the round. */
  starting: boolean;
  crashTimesWallMs: number[];
  backoffUntilWallMs: number | undefined;
}

export interface WorldNode {
  readonly id: NodeId;
  readonly zone: string;
  health: 'healthy' | 'suspect' | 'down';
  downSinceWallMs: number | undefined;
  readonly capacity: { daemons: number; chains: number };
  readonly load: number;
  maintenance: MaintenanceState;
  readonly daemons: Map<string, WorldDaemon>;
  readonly replicas: Map<string, number>;
  /** Actions on a slow node finish one round late. */
  slow: boolean;
  /** While down: the daemons it ran when it was cut off (a partition, not a crash, keeps them). */
  cutOffDaemons: Map<string, WorldDaemon> | undefined;
}

export interface WorldChain {
  members: NodeId[];
  leader: NodeId | undefined;
}

export interface WorldBlob {
  readonly holders: Set<NodeId>;
  heat: number;
  hottestReader: NodeId | undefined;
}

export interface EmittedAction {
  readonly round: number;
  readonly pending: PendingAction;
}

export class World {
  monotonicMs = 0;
  roundNumber = 0;
  readonly nodes = new Map<NodeId, WorldNode>();
  readonly chains = new Map<string, WorldChain>();
  readonly blobs = new Map<string, WorldBlob>();
  readonly avoid = new AvoidList();
  readonly ids = new ActionIds();
  readonly executor: ActionExecutor;
  desired: DesiredState;
  /** Every action reconcile emitted, with its round. */
  readonly emitted: EmittedAction[] = [];
  /** Actions a slow node carries out at the next tick. */
  readonly late: (() => void)[] = [];
  lastResult: ReconcileResult = { actions: [], blocked: [] };
  /** Rounds whose actions took a daemon, chain or blob below what was asked for (see `liveCounts`). */
  readonly safetyViolations: string[] = [];

  constructor(desired: DesiredState) {
    this.desired = desired;
    this.executor = new ActionExecutor({
      owners: simulatedOwners(this),
      zoneOf: (node) => this.nodes.get(node)?.zone ?? 'unknown',
    });
  }

  time(): ReconcileTime {
    return { monotonicMs: this.monotonicMs, wallMs: this.wallMs() };
  }

  wallMs(): number {
    return this.monotonicMs + WALL_OFFSET_MS;
  }

  addNode(id: NodeId, zone: string, load: number): void {
    this.nodes.set(id, {
      id,
      zone,
      health: 'healthy',
      downSinceWallMs: undefined,
      capacity: { daemons: 50, chains: 50 },
      load,
      maintenance: ACTIVE,
      daemons: new Map(),
      replicas: new Map(),
      slow: false,
      cutOffDaemons: undefined,
    });
  }

  /** A chain created on `origin` alone, as `meshos chain create` leaves it before repair. */
  addChain(name: string, origin: NodeId): void {
    this.chains.set(name, { members: [origin], leader: origin });
    this.node(origin).replicas.set(name, 0);
  }

  addBlob(id: string, holder: NodeId): void {
    this.blobs.set(id, { holders: new Set([holder]), heat: 0, hottestReader: undefined });
  }

  node(id: NodeId): WorldNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id} in the world`);
    return node;
  }

  setMaintenanceRequest(request: MaintenanceRequest): void {
    const others = this.desired.maintenance.filter((entry) => entry.node !== request.node);
    this.desired = { ...this.desired, maintenance: [...others, request] };
  }

  observe(): ObservedState {
    const wallMs = this.wallMs();
    const rtt = [];
    for (const from of this.nodes.values()) {
      for (const to of this.nodes.values()) {
        if (from.id === to.id) continue;
        rtt.push({ from: from.id, to: to.id, rttMs: from.slow || to.slow ? SLOW_RTT_MS : FAST_RTT_MS });
      }
    }
    return {
      nodes: [...this.nodes.values()].map((node) => ({
        id: node.id,
        health: node.health,
        ...(node.downSinceWallMs === undefined ? {} : { downSinceWallMs: node.downSinceWallMs }),
        zone: node.zone,
        capacity: { ...node.capacity },
        load: node.load,
        maintenance: node.maintenance,
        daemons: [...node.daemons].map(([name, daemon]) => ({
          name,
          running: daemon.running,
          crashTimesWallMs: [...daemon.crashTimesWallMs],
          ...(daemon.backoffUntilWallMs === undefined
            ? {}
            : { backoffUntilWallMs: daemon.backoffUntilWallMs }),
        })),
        replicas: [...node.replicas].map(([chain, lagRecords]) => ({ chain, lagRecords })),
      })),
      chains: [...this.chains].map(([name, chain]) => ({
        name,
        members: [...chain.members],
        ...(chain.leader === undefined ? {} : { leader: chain.leader }),
      })),
      blobs: [...this.blobs].map(([id, blob]) => ({
        id,
        holders: [...blob.holders],
        heat: blob.heat,
        ...(blob.hottestReader === undefined ? {} : { hottestReader: blob.hottestReader }),
      })),
      rtt,
      avoid: this.avoid.active(wallMs),
      pending: this.executor.pending(),
    };
  }

  /** One reconcile pass and one round of the executor and of the rest of the system. */
  round(): ReconcileResult {
    this.roundNumber += 1;
    const before = this.liveCounts();
    const result = reconcile(this.observe(), this.desired, this.time(), this.ids);
    this.lastResult = result;
    for (const pending of result.actions) this.emitted.push({ round: this.roundNumber, pending });
    this.executor.submit(result.actions, this.monotonicMs);
    for (let tick = 0; tick < ROUND_MS / TICK_MS; tick++) {
      for (const finish of this.late.splice(0)) finish();
      this.executor.drain(this.monotonicMs);
      this.monotonicMs += TICK_MS;
    }
    this.checkSafety(before, this.liveCounts());
    this.avoid.expire(this.wallMs());
    this.settle();
    return result;
  }

  /**
   * What serves now, per desired thing: a daemon's running members on live nodes, a chain's
   * caught-up copies on live nodes, a blob's copies on live nodes (draining nodes count: what
   * they hold still serves).
   */
  liveCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    const live = [...this.nodes.values()].filter((node) => node.health !== 'down');
    for (const spec of this.desired.daemons) {
      counts.set(`daemon ${spec.name}`, live.filter((node) => node.daemons.get(spec.name)?.running).length);
    }
    for (const spec of this.desired.chains) {
      counts.set(`chain ${spec.name}`, live.filter((node) => node.replicas.get(spec.name) === 0).length);
    }
    for (const spec of this.desired.blobs) {
      const holders = this.blobs.get(spec.id)?.holders ?? new Set<NodeId>();
      counts.set(`blob ${spec.id}`, live.filter((node) => holders.has(node.id)).length);
    }
    return counts;
  }

  /** Reconcile's actions never take what serves below the count asked for (or below what there was). */
  private checkSafety(before: Map<string, number>, after: Map<string, number>): void {
    const asked = new Map<string, number>([
      ...this.desired.daemons.map((spec): [string, number] => [`daemon ${spec.name}`, spec.members]),
      ...this.desired.chains.map((spec): [string, number] => [`chain ${spec.name}`, spec.replicas]),
      ...this.desired.blobs.map((spec): [string, number] => [`blob ${spec.id}`, spec.replicas]),
    ]);
    for (const [subject, count] of after) {
      const floor = Math.min(asked.get(subject) ?? 0, before.get(subject) ?? 0);
      if (count < floor)
        this.safetyViolations.push(
          `round ${this.roundNumber}: ${subject} went from ${before.get(subject)} to ${count}`,
        );
    }
  }

  /** The rest of the system between passes: pulled replicas catch up; chains elect live leaders. */
  private settle(): void {
    for (const node of this.nodes.values()) {
      if (node.health === 'down') continue;
      for (const chain of node.replicas.keys()) node.replicas.set(chain, 0);
      for (const daemon of node.daemons.values()) if (daemon.starting) daemon.running = true;
      for (const daemon of node.daemons.values()) daemon.starting = false;
    }
    for (const [name, chain] of this.chains) {
      if (chain.leader !== undefined && this.holdsLive(chain.leader, name)) continue;
      const candidates = chain.members.filter((member) => this.holdsLive(member, name)).sort((a, b) => a - b);
      chain.leader = candidates[0];
    }
  }

  holdsLive(node: NodeId, chain: string): boolean {
    const state = this.nodes.get(node);
    return state !== undefined && state.health !== 'down' && state.replicas.has(chain);
  }
}
