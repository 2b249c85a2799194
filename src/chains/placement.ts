/**
 * Placement and repair of chains, as one pure function (docs/CHAINS.md "Placement and repair"):
 * from the definitions, the nodes' health and the learners' progress it plans what the
 * coordinator should change, at most one action per chain at a time. It places new chains on
 * distinct healthy nodes (fewest chains first), elects a new leader when a chain's leader is not
 * healthy, and replaces a replica whose node has been gone past the grace period in two steps (a
 * learner is added; once caught up it is promoted in the gone replica's place). Nothing ever
 * removes a replica except that promotion. The reconcile loop (a later issue) absorbs it whole.
 */
import type { NodeId } from '../lib/index.js';
import type { ChainDefinition } from './types.js';

/**
 * Chains (replicas and learners) one node holds at most unless its record says otherwise
 * (`capacity.chains`, `--capacity chains=N`); placement never goes past a node's limit, and a
 * node's chain host refuses to open more.
 */
export const DEFAULT_MAX_CHAINS_PER_NODE = 10_000;

/** A node as placement sees it. */
export interface PlacementNode {
  readonly id: NodeId;
  /** Registered and not suspected. */
  readonly healthy: boolean;
  /** When its registration disappeared (set only once it is gone). */
  readonly goneSinceMs?: number;
  /** The most chains it holds (its `capacity.chains`); the plan's `maxChainsPerNode` when absent. */
  readonly maxChains?: number;
  /**
   * Draining for maintenance: its replicas are replaced at once (as a node gone past the grace
   * period) and it leads nothing, though it still serves until each replacement caught up.
   */
  readonly leaving?: boolean;
  /** False while it takes no new replicas (maintenance, Recovery); absent: it does. */
  readonly placeable?: boolean;
}

/** A chain to place: its name, how many replicas, where its appends come from. */
export interface PlacementRequest {
  readonly name: string;
  readonly replicaCount: number;
  readonly origin?: NodeId;
}

/**
 * Picks a chain's leader among `replicas`, never one in `excluded`; undefined when none is
 * eligible. The coordinator passes one over the shared RTT matrix (`chooseChainLeader`).
 */
export type PlacementLeaderChoice = (
  replicas: readonly NodeId[],
  origin: NodeId | undefined,
  excluded: ReadonlySet<NodeId>,
) => NodeId | undefined;

export interface PlacementInput {
  /** Every chain's current definition. */
  readonly chains: readonly ChainDefinition[];
  /** New chains to place (names that exist already are left out). */
  readonly requests?: readonly PlacementRequest[];
  /**
   * Every node the mesh has and every node a chain names that has gone (with `goneSinceMs`).
   * A node a chain names but not listed here counts as unhealthy, never as gone past grace.
   */
  readonly nodes: readonly PlacementNode[];
  /** For each chain, its learners that have caught up with the leader's commit offset. */
  readonly caughtUpLearners?: ReadonlyMap<string, ReadonlySet<NodeId>>;
  readonly nowMs: number;
  /** How long a node must have been gone before its replicas are replaced. */
  readonly gracePeriodMs: number;
  /** The limit of a node that states none (`DEFAULT_MAX_CHAINS_PER_NODE` when absent). */
  readonly maxChainsPerNode?: number;
  /** RTT from one node to another when known: new replicas are placed near the origin. */
  readonly rttMs?: (from: NodeId, to: NodeId) => number | undefined;
  /** The leader of a new chain or a new epoch; by default the origin if eligible, else the smallest id. */
  readonly chooseLeader?: PlacementLeaderChoice;
}

export type PlacementAction =
  /** Create the chain with these replicas (in order), `leader` leading epoch 1. */
  | {
      readonly type: 'place';
      readonly name: string;
      readonly replicas: readonly NodeId[];
      readonly leader: NodeId;
    }
  /** Start epoch `epoch + 1` led by `leader` (the current leader is not healthy). */
  | { readonly type: 'elect'; readonly name: string; readonly epoch: number; readonly leader: NodeId }
  /** First replacement step: `node` catches up to take `replacing`'s place. */
  | { readonly type: 'add-learner'; readonly name: string; readonly node: NodeId; readonly replacing: NodeId }
  /** Second step: the caught-up `learner` takes `replaced`'s place, in a new epoch. */
  | {
      readonly type: 'promote-learner';
      readonly name: string;
      readonly learner: NodeId;
      readonly replaced: NodeId;
    }
  /** A learner no longer needed (its node is gone, or the replica it was to replace is back). */
  | { readonly type: 'remove-learner'; readonly name: string; readonly node: NodeId };

/** A chain that needs an action no node can take now, and why. */
export interface PlacementBlocked {
  readonly name: string;
  readonly reason: string;
  /** A new chain's placement only: healthy nodes with room, and those left out as full. */
  readonly healthyNodes?: { readonly withRoom: number; readonly full: number };
}

export interface PlacementPlan {
  readonly actions: readonly PlacementAction[];
  readonly blocked: readonly PlacementBlocked[];
}

type NodeState = 'healthy' | 'unhealthy' | 'gone-past-grace';

/** What planning needs at hand: node states and the chains each node holds so far. */
interface PlanContext {
  readonly input: PlacementInput;
  readonly stateOf: (node: NodeId) => NodeState;
  readonly load: Map<NodeId, number>;
  readonly maxChainsOf: (node: NodeId) => number;
  readonly chooseLeader: PlacementLeaderChoice;
}

export function planPlacement(input: PlacementInput): PlacementPlan {
  const context = planContext(input);
  const actions: PlacementAction[] = [];
  const blocked: PlacementBlocked[] = [];
  const byName = [...input.chains].sort((a, b) => compareNames(a.name, b.name));
  for (const chain of byName) {
    const outcome = repairOf(context, chain);
    if (outcome === undefined) continue;
    if ('reason' in outcome) blocked.push(outcome);
    else actions.push(outcome);
  }
  const existing = new Set(input.chains.map((chain) => chain.name));
  const requests = [...(input.requests ?? [])].sort((a, b) => compareNames(a.name, b.name));
  for (const request of requests) {
    if (existing.has(request.name)) continue;
    existing.add(request.name);
    const outcome = placementOf(context, request);
    if ('reason' in outcome) blocked.push(outcome);
    else actions.push(outcome);
  }
  return { actions, blocked };
}

function planContext(input: PlacementInput): PlanContext {
  const nodes = new Map(input.nodes.map((node) => [node.id, node]));
  const stateOf = (id: NodeId): NodeState => {
    const node = nodes.get(id);
    if (node === undefined) return 'unhealthy';
    if (node.leaving === true) return 'gone-past-grace';
    if (node.goneSinceMs !== undefined) {
      return input.nowMs - node.goneSinceMs >= input.gracePeriodMs ? 'gone-past-grace' : 'unhealthy';
    }
    return node.healthy ? 'healthy' : 'unhealthy';
  };
  const load = new Map<NodeId, number>();
  for (const chain of input.chains) {
    for (const node of [...chain.replicas, ...(chain.learners ?? [])])
      load.set(node, (load.get(node) ?? 0) + 1);
  }
  const maxChainsPerNode = input.maxChainsPerNode ?? DEFAULT_MAX_CHAINS_PER_NODE;
  return {
    input,
    stateOf,
    load,
    maxChainsOf: (id) => nodes.get(id)?.maxChains ?? maxChainsPerNode,
    chooseLeader: input.chooseLeader ?? originOrSmallestId,
  };
}

/** The one repair a chain needs now, if any: leader first, then one replica at a time. */
function repairOf(
  context: PlanContext,
  chain: ChainDefinition,
): PlacementAction | PlacementBlocked | undefined {
  const { stateOf } = context;
  const name = chain.name;
  if (chain.leader === undefined || stateOf(chain.leader) !== 'healthy') {
    const excluded = new Set(chain.replicas.filter((node) => stateOf(node) !== 'healthy'));
    const leader = context.chooseLeader(chain.replicas, chain.origin, excluded);
    if (leader === undefined || excluded.has(leader) || !chain.replicas.includes(leader)) {
      return { name, reason: 'no healthy replica to lead' };
    }
    return { type: 'elect', name, epoch: chain.epoch, leader };
  }
  const learners = chain.learners ?? [];
  const goneLearner = learners.find((node) => stateOf(node) === 'gone-past-grace');
  if (goneLearner !== undefined) return { type: 'remove-learner', name, node: goneLearner };
  const goneReplica = chain.replicas.find((node) => stateOf(node) === 'gone-past-grace');
  const learner = learners[0];
  if (goneReplica === undefined) {
    return learner === undefined ? undefined : { type: 'remove-learner', name, node: learner };
  }
  if (learner !== undefined) {
    const caughtUp = context.input.caughtUpLearners?.get(name)?.has(learner) ?? false;
    return caughtUp ? { type: 'promote-learner', name, learner, replaced: goneReplica } : undefined;
  }
  const [node] = choosableNodes(context, new Set(chain.replicas), chain.origin ?? chain.leader);
  if (node === undefined) return { name, reason: `no healthy node to replace replica ${goneReplica}` };
  context.load.set(node, (context.load.get(node) ?? 0) + 1);
  return { type: 'add-learner', name, node, replacing: goneReplica };
}

function placementOf(context: PlanContext, request: PlacementRequest): PlacementAction | PlacementBlocked {
  const candidates = choosableNodes(context, new Set(), request.origin);
  if (candidates.length < request.replicaCount) {
    const fullNodes = context.input.nodes.filter(
      (node) => context.stateOf(node.id) === 'healthy' && !hasRoom(context, node.id),
    ).length;
    return {
      name: request.name,
      reason: `${request.replicaCount} replicas asked for, ${candidates.length} healthy nodes with room${fullNodes > 0 ? ` (${fullNodes} more hold their most chains)` : ''}`,
      healthyNodes: { withRoom: candidates.length, full: fullNodes },
    };
  }
  const replicas = candidates.slice(0, request.replicaCount);
  for (const node of replicas) context.load.set(node, (context.load.get(node) ?? 0) + 1);
  const leader = context.chooseLeader(replicas, request.origin, new Set()) ?? replicas[0]!;
  return { type: 'place', name: request.name, replicas, leader };
}

/**
 * Healthy nodes with room, outside `taken`, in placement order: fewest chains first, then
 * nearest to `near` when RTTs are known, then smallest id.
 */
function choosableNodes(
  context: PlanContext,
  taken: ReadonlySet<NodeId>,
  near: NodeId | undefined,
): NodeId[] {
  const { input, load } = context;
  const distance = (node: NodeId): number => {
    if (near === undefined || input.rttMs === undefined) return 0;
    if (node === near) return 0;
    return input.rttMs(near, node) ?? Number.POSITIVE_INFINITY;
  };
  return input.nodes
    .filter((node) => !taken.has(node.id) && context.stateOf(node.id) === 'healthy')
    .filter((node) => node.placeable !== false && hasRoom(context, node.id))
    .map((node) => ({ id: node.id, load: load.get(node.id) ?? 0, distance: distance(node.id) }))
    .sort((a, b) => a.load - b.load || compareDistances(a.distance, b.distance) || a.id - b.id)
    .map((node) => node.id);
}

function hasRoom(context: PlanContext, node: NodeId): boolean {
  return (context.load.get(node) ?? 0) < context.maxChainsOf(node);
}

function compareDistances(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** Without RTTs, `elect` from the origin picks the origin when it is eligible, else the smallest id. */
export function originOrSmallestId(
  replicas: readonly NodeId[],
  origin: NodeId | undefined,
  excluded: ReadonlySet<NodeId>,
): NodeId | undefined {
  const eligible = replicas.filter((node) => !excluded.has(node));
  if (origin !== undefined && eligible.includes(origin)) return origin;
  return eligible.length === 0 ? undefined : Math.min(...eligible);
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
