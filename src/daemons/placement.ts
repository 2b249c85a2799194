/**
 * Where a daemon's members go and which member takes over when the active's node leaves. Pure:
 * the nodes, their health, the existing definitions and the members' progress come in as
 * arguments, so every node asked the same question gives the same answer.
 */
import type { NodeId } from '../lib/index.js';
import { DaemonPlacementError } from './cluster-errors.js';
import { MIN_DAEMON_CHAIN_REPLICAS } from './cluster-limits.js';
import type { DaemonDefinition } from './types.js';

export interface DaemonPlacementNode {
  readonly id: NodeId;
  readonly healthy: boolean;
  /** False while the node takes no new members (maintenance, Recovery); absent: it does. */
  readonly placeable?: boolean;
}

export interface DaemonPlacementQuestion {
  readonly name: string;
  readonly memberCount: number;
  readonly nodes: readonly DaemonPlacementNode[];
  /** The daemons already deployed: each member counts as load on its node. */
  readonly existing: readonly DaemonDefinition[];
}

/** How many members of `existing` daemons each node runs. */
export function memberLoad(existing: readonly DaemonDefinition[]): Map<NodeId, number> {
  const load = new Map<NodeId, number>();
  for (const definition of existing) {
    for (const member of definition.members) load.set(member.node, (load.get(member.node) ?? 0) + 1);
  }
  return load;
}

/** The ids of the nodes that can run a member now. */
export function healthyNodeIds(nodes: readonly DaemonPlacementNode[]): Set<NodeId> {
  return new Set(nodes.filter((node) => node.healthy).map((node) => node.id));
}

/** Healthy nodes that take placements, least loaded first, ties by node id. */
function byLoad(nodes: readonly DaemonPlacementNode[], load: ReadonlyMap<NodeId, number>): NodeId[] {
  return nodes
    .filter((node) => node.healthy && node.placeable !== false)
    .map((node) => node.id)
    .sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0) || a - b);
}

/**
 * The members' nodes, member 0 first: distinct healthy nodes, least loaded first, ties by node
 * id. DAEMON_PLACEMENT_FAILED when there are fewer healthy nodes than members.
 */
export function placeDaemonMembers(question: DaemonPlacementQuestion): NodeId[] {
  const candidates = byLoad(question.nodes, memberLoad(question.existing));
  if (candidates.length < question.memberCount)
    throw new DaemonPlacementError(question.name, question.memberCount, candidates.length);
  return candidates.slice(0, question.memberCount);
}

/**
 * The replica set of a daemon's chains: the members' nodes, then the least loaded other healthy
 * nodes until there are `MIN_DAEMON_CHAIN_REPLICAS` (or no more nodes).
 */
export function daemonChainReplicas(
  memberNodes: readonly NodeId[],
  nodes: readonly DaemonPlacementNode[],
  existing: readonly DaemonDefinition[],
): NodeId[] {
  const replicas = [...memberNodes];
  for (const node of byLoad(nodes, memberLoad(existing))) {
    if (replicas.length >= MIN_DAEMON_CHAIN_REPLICAS) break;
    if (!replicas.includes(node)) replicas.push(node);
  }
  return replicas;
}

/**
 * The node to take the place of a member whose node is gone: a healthy node holding no member of
 * this daemon, least loaded first, ties by node id; undefined when there is none.
 */
export function replacementNode(
  definition: DaemonDefinition,
  nodes: readonly DaemonPlacementNode[],
  existing: readonly DaemonDefinition[],
): NodeId | undefined {
  const members = new Set(definition.members.map((member) => member.node));
  return byLoad(nodes, memberLoad(existing)).find((node) => !members.has(node));
}

export interface FailoverQuestion {
  readonly definition: DaemonDefinition;
  /** Whether a node can take the active now (registered, not suspected). */
  readonly healthy: (node: NodeId) => boolean;
  /** What each member reported it has applied (exclusive inbound offset); absent: no report. */
  readonly syncedThrough: ReadonlyMap<number, number>;
  /** RTT to a node as the deciding node measured it; undefined when not measured. */
  readonly rttMs: (node: NodeId) => number | undefined;
}

/**
 * The member to promote: a healthy member other than the active that reported its progress,
 * the highest `syncedThrough` first, then the nearest (measured before unmeasured), then the
 * smallest node id. Undefined when none qualifies.
 */
export function chooseFailoverMember(question: FailoverQuestion): number | undefined {
  const { definition } = question;
  const candidates = definition.members.filter(
    (member) =>
      member.index !== definition.active &&
      question.healthy(member.node) &&
      question.syncedThrough.has(member.index),
  );
  const rank = (node: NodeId): number => question.rttMs(node) ?? Number.POSITIVE_INFINITY;
  candidates.sort(
    (a, b) =>
      (question.syncedThrough.get(b.index) ?? 0) - (question.syncedThrough.get(a.index) ?? 0) ||
      rank(a.node) - rank(b.node) ||
      a.node - b.node,
  );
  return candidates[0]?.index;
}

export interface ReplicaRelocationQuestion {
  readonly definition: DaemonDefinition;
  readonly nodes: readonly DaemonPlacementNode[];
  /** The other deployed daemons: each member counts as load on its node. */
  readonly existing: readonly DaemonDefinition[];
}

/**
 * For a replica group: the first member (by index) whose node is not healthy, and the node it is
 * rebuilt on: a healthy node that runs no member of the group, least loaded first, ties by node
 * id. Undefined when every member's node is healthy or no node is free (the member then waits
 * for its node to come back and rebuild it from its chain).
 */
export function chooseReplicaRelocation(
  question: ReplicaRelocationQuestion,
): { readonly index: number; readonly node: NodeId } | undefined {
  const { definition } = question;
  const healthy = healthyNodeIds(question.nodes);
  const lost = definition.members.find((member) => !healthy.has(member.node));
  if (lost === undefined) return undefined;
  const free = replacementNode(definition, question.nodes, question.existing);
  return free === undefined ? undefined : { index: lost.index, node: free };
}
