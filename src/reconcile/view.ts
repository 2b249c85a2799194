/**
 * The mesh as reconcile plans on it: the observed state, indexed, with the effect of every
 * pending action already applied (an action asked for is counted as done, so it is not asked for
 * twice), and with each action reconcile emits applied as it is emitted (later steps of the same
 * pass see it). What nodes really run and hold (`actual...`) is kept apart: draining and choosing
 * sources go by what is there, never by what was asked for.
 */
import { assert, type NodeId } from '../lib/index.js';
import { actionKey, type ReconcileAction } from './actions.js';
import { DOWN_NODE_GRACE_MS } from './constants.js';
import { isAllowedTransition, isDraining, type MaintenanceState } from './maintenance.js';
import { NodePicker } from './node-picker.js';
import type { ObservedNode, ObservedState } from './state.js';
import { type ReconcileTime, wallFromMonotonic } from './time.js';

/**
 * A daemon member as planned on: the observed one as it is until an action changes it (then a
 * copy), so a pass allocates nothing for the members it leaves alone.
 */
export interface DaemonInstance {
  /** Running, or asked to start. */
  readonly running: boolean;
  /** Running as the node reported it; absent while `running` is still the reported value. */
  readonly actuallyRunning?: boolean;
  readonly crashTimesWallMs: readonly number[];
  readonly backoffUntilWallMs?: number | undefined;
  readonly serving?: boolean;
}

/** Whether the node reported the member running (an asked-for start does not count). */
export function reallyRuns(instance: DaemonInstance): boolean {
  return instance.actuallyRunning ?? instance.running;
}

export interface NodeState {
  readonly observed: ObservedNode;
  maintenance: MaintenanceState;
  avoided: boolean;
  /** When its latest avoid entry (or a pending MarkAvoid) ends; NEGATIVE_INFINITY: none. */
  avoidedUntilWallMs: number;
  readonly daemons: Map<string, DaemonInstance>;
  /**
   * Replicas held or being pulled: the lag as reported, undefined while a pull is pending. The
   * reported map itself until an action changes it (`ownsReplicas`), then a copy.
   */
  replicas: Map<string, number | undefined>;
  ownsReplicas: boolean;
  /** Replicas as the node reported them. */
  readonly actualReplicas: ReadonlyMap<string, number>;
}

export interface ChainState {
  readonly members: NodeId[];
  leader: NodeId | undefined;
}

export interface BlobState {
  readonly holders: NodeId[];
  /** Holders as observed (a pending migration's target is not a source yet). */
  readonly actualHolders: ReadonlySet<NodeId>;
  heat: number;
  readonly hottestReader: NodeId | undefined;
}

/** What a deployment may tune of a pass (both default to the core's constants). */
export interface ReconcileOptions {
  /** A down node's chain replicas and blob copies count this long (DOWN_NODE_GRACE_MS). */
  readonly copyDownGraceMs?: number;
  /** A down node's daemon members are replaced only after this long (0: at once). */
  readonly daemonDownGraceMs?: number;
}

export class MeshView {
  readonly time: ReconcileTime;
  readonly nodes = new Map<NodeId, NodeState>();
  /** Node ids, ascending. */
  readonly nodeIds: readonly NodeId[];
  readonly chains = new Map<string, ChainState>();
  readonly blobs = new Map<string, BlobState>();
  /** For each daemon, the nodes with a member of it (asked-for ones included). */
  readonly daemonNodes = new Map<string, Set<NodeId>>();
  /** Keys of the pending actions and of those emitted in this pass. */
  readonly actionKeys = new Set<string>();
  /** Nodes with a maintenance transition pending: one commit at a time per node. */
  readonly maintenanceCommitsPending = new Set<NodeId>();
  /**
   * Blobs with a migration or a drop pending or emitted this pass: a hot blob moves, and extra
   * copies go, only once its copies stopped changing.
   */
  readonly blobsMigrating = new Set<string>();
  readonly observed: ObservedState;
  readonly options: Required<ReconcileOptions>;

  constructor(observed: ObservedState, time: ReconcileTime, options: ReconcileOptions = {}) {
    this.observed = observed;
    this.time = time;
    this.options = {
      copyDownGraceMs: options.copyDownGraceMs ?? DOWN_NODE_GRACE_MS,
      daemonDownGraceMs: options.daemonDownGraceMs ?? 0,
    };
    const avoided = new Map<NodeId, number>();
    for (const entry of observed.avoid)
      if (entry.untilWallMs > time.wallMs)
        avoided.set(entry.node, Math.max(entry.untilWallMs, avoided.get(entry.node) ?? 0));
    for (const node of observed.nodes) this.addNode(node, avoided.get(node.id));
    this.nodeIds = [...this.nodes.keys()].sort((a, b) => a - b);
    for (const chain of observed.chains) {
      this.chains.set(chain.name, { members: [...chain.members], leader: chain.leader });
    }
    for (const blob of observed.blobs) {
      this.blobs.set(blob.id, {
        holders: [...blob.holders],
        actualHolders: new Set(blob.holders),
        heat: blob.heat,
        hottestReader: blob.hottestReader,
      });
    }
    for (const pending of observed.pending) {
      this.apply(pending.action);
      if (pending.action.kind === 'CommitMaintenanceTransition')
        this.maintenanceCommitsPending.add(pending.action.node);
    }
  }

  private addNode(node: ObservedNode, avoidedUntilWallMs: number | undefined): void {
    const daemons = new Map<string, DaemonInstance>();
    for (const daemon of node.daemons) {
      daemons.set(daemon.name, daemon);
      this.daemonNodesOf(daemon.name).add(node.id);
    }
    const actualReplicas = new Map<string, number>();
    for (const replica of node.replicas) actualReplicas.set(replica.chain, replica.lagRecords);
    this.nodes.set(node.id, {
      observed: node,
      maintenance: node.maintenance,
      avoided: avoidedUntilWallMs !== undefined,
      avoidedUntilWallMs: avoidedUntilWallMs ?? Number.NEGATIVE_INFINITY,
      daemons,
      replicas: actualReplicas,
      ownsReplicas: false,
      actualReplicas,
    });
  }

  daemonNodesOf(daemon: string): Set<NodeId> {
    let nodes = this.daemonNodes.get(daemon);
    if (nodes === undefined) {
      nodes = new Set();
      this.daemonNodes.set(daemon, nodes);
    }
    return nodes;
  }

  node(id: NodeId): NodeState {
    const node = this.nodes.get(id);
    assert(node !== undefined, () => `reconcile view has no node ${id}`);
    return node;
  }

  /** Its lease is alive (healthy or suspect). */
  isUp(id: NodeId): boolean {
    const node = this.nodes.get(id);
    return node !== undefined && node.observed.health !== 'down';
  }

  /** Up and not draining: what it runs counts toward a daemon's members, and it pulls its replicas. */
  isStaying(id: NodeId): boolean {
    const node = this.nodes.get(id);
    return node !== undefined && node.observed.health !== 'down' && !isDraining(node.maintenance);
  }

  /** Its chain replicas and blob copies count: up and not draining, or down for less than the grace. */
  keepsCopies(id: NodeId): boolean {
    const node = this.nodes.get(id);
    if (node === undefined) return false;
    if (node.observed.health !== 'down') return !isDraining(node.maintenance);
    return this.downFor(node) < this.options.copyDownGraceMs;
  }

  /** Down, and for less than the daemon grace: its members wait for it rather than being replaced. */
  holdsDaemonsWhileDown(id: NodeId): boolean {
    const node = this.nodes.get(id);
    return (
      node !== undefined &&
      node.observed.health === 'down' &&
      this.downFor(node) < this.options.daemonDownGraceMs
    );
  }

  private downFor(node: NodeState): number {
    return this.time.wallMs - (node.observed.downSinceWallMs ?? Number.NEGATIVE_INFINITY);
  }

  /** New daemons, replicas and blobs may go there: healthy, Active, not avoided. */
  isPlaceable(id: NodeId): boolean {
    const node = this.nodes.get(id);
    return (
      node !== undefined &&
      node.observed.health === 'healthy' &&
      node.maintenance.phase === 'Active' &&
      !node.avoided
    );
  }

  /**
   * A picker over the placeable nodes for one kind of thing: each holds `held(id)` of it and has
   * room for `capacity(node)`.
   */
  placeablePicker(held: (id: NodeId) => number, capacity: (node: ObservedNode) => number): NodePicker {
    return new NodePicker(
      this.nodeIds
        .filter((id) => this.isPlaceable(id))
        .map((id) => {
          const node = this.node(id);
          return {
            id,
            zone: node.observed.zone,
            load: node.observed.load,
            held: held(id),
            capacity: capacity(node.observed),
          };
        }),
    );
  }

  /** Records `action`'s effect as if it were done (pending actions, and each one emitted). */
  apply(action: ReconcileAction): void {
    this.actionKeys.add(actionKey(action));
    switch (action.kind) {
      case 'StartDaemon': {
        const node = this.nodes.get(action.node);
        if (node === undefined) return;
        const instance = node.daemons.get(action.daemon);
        node.daemons.set(
          action.daemon,
          instance === undefined
            ? { running: true, actuallyRunning: false, crashTimesWallMs: [] }
            : { ...withoutName(instance), running: true, actuallyRunning: reallyRuns(instance) },
        );
        this.daemonNodesOf(action.daemon).add(action.node);
        return;
      }
      case 'StopDaemon':
        this.nodes.get(action.node)?.daemons.delete(action.daemon);
        this.daemonNodes.get(action.daemon)?.delete(action.node);
        return;
      case 'ApplyBackoff': {
        const daemons = this.nodes.get(action.node)?.daemons;
        const instance = daemons?.get(action.daemon);
        if (daemons === undefined || instance === undefined) return;
        daemons.set(action.daemon, {
          ...withoutName(instance),
          actuallyRunning: reallyRuns(instance),
          backoffUntilWallMs: wallFromMonotonic(this.time, action.untilMonotonicMs),
        });
        return;
      }
      case 'PullReplica': {
        const node = this.nodes.get(action.node);
        if (node !== undefined && !node.replicas.has(action.chain))
          ownReplicas(node).set(action.chain, undefined);
        return;
      }
      case 'DropReplica': {
        const node = this.nodes.get(action.node);
        if (node?.replicas.has(action.chain)) ownReplicas(node).delete(action.chain);
        return;
      }
      case 'RequestPlacement': {
        const chain = this.chains.get(action.chain);
        if (chain !== undefined && action.target !== undefined && !chain.members.includes(action.target))
          chain.members.push(action.target);
        return;
      }
      case 'RequestEviction': {
        const chain = this.chains.get(action.chain);
        if (chain === undefined) return;
        removeFrom(chain.members, action.victim);
        if (chain.leader === action.victim) chain.leader = undefined;
        return;
      }
      case 'MigrateBlob': {
        this.blobsMigrating.add(action.blob);
        const blob = this.blobs.get(action.blob);
        if (blob === undefined) return;
        if (!blob.holders.includes(action.to)) blob.holders.push(action.to);
        if (!action.keepSource) removeFrom(blob.holders, action.from);
        return;
      }
      case 'DropBlobCopy': {
        this.blobsMigrating.add(action.blob);
        const blob = this.blobs.get(action.blob);
        if (blob !== undefined) removeFrom(blob.holders, action.node);
        return;
      }
      case 'ReduceHeat': {
        const blob = this.blobs.get(action.blob);
        if (blob !== undefined) blob.heat = Math.max(0, blob.heat - action.by);
        return;
      }
      case 'MarkAvoid': {
        const node = this.nodes.get(action.peer);
        if (node === undefined) return;
        node.avoided = true;
        node.avoidedUntilWallMs = Math.max(node.avoidedUntilWallMs, this.time.wallMs + action.ttlMs);
        return;
      }
      case 'CommitMaintenanceTransition': {
        const node = this.nodes.get(action.node);
        if (node === undefined) return;
        // A pending commit the machine would refuse changes nothing: its owner fails it.
        if (isAllowedTransition(node.maintenance.phase, action.target.phase))
          node.maintenance = action.target;
        return;
      }
    }
  }

  /** True when an action with the same key is pending or was emitted in this pass. */
  isAsked(action: ReconcileAction): boolean {
    return this.actionKeys.has(actionKey(action));
  }
}

/** The node's planned replicas as its own map (copied from the reported one on first change). */
function ownReplicas(node: NodeState): Map<string, number | undefined> {
  if (!node.ownsReplicas) {
    node.replicas = new Map(node.replicas);
    node.ownsReplicas = true;
  }
  return node.replicas;
}

/** A member's fields without the observed record's name (a copy holds only what planning reads). */
function withoutName(instance: DaemonInstance): DaemonInstance {
  return {
    running: instance.running,
    crashTimesWallMs: instance.crashTimesWallMs,
    ...(instance.actuallyRunning === undefined ? {} : { actuallyRunning: instance.actuallyRunning }),
    ...(instance.backoffUntilWallMs === undefined ? {} : { backoffUntilWallMs: instance.backoffUntilWallMs }),
    ...(instance.serving === undefined ? {} : { serving: instance.serving }),
  };
}

function removeFrom(list: NodeId[], value: NodeId): void {
  const index = list.indexOf(value);
  if (index >= 0) list.splice(index, 1);
}
