/**
 * Chain step of a pass. Membership is the leader's to change, so RequestPlacement and
 * RequestEviction are emitted only for a chain whose leader is live (up and holding its
 * replica), in that leader's name: a chain with fewer members that keep copies than asked for
 * gets new members on the least-loaded placeable nodes; members that no longer keep copies
 * (draining, down past the grace) and extras are evicted only while enough caught-up members
 * remain, so a copy is never given up before its replacement holds the records. Then every node
 * pulls the replicas it is a member for and drops those it is not.
 */
import type { NodeId } from '../lib/index.js';
import { CAUGHT_UP_LAG_RECORDS } from './constants.js';
import type { Emitter } from './emitter.js';
import { countPerNode, type NodePicker } from './node-picker.js';
import { compareText } from './plan-daemons.js';
import type { ChainSpec, DesiredState } from './state.js';
import type { ChainState, MeshView } from './view.js';

export function planChains(out: Emitter, desired: DesiredState): void {
  const { view } = out;
  const held = countPerNode([...view.chains.values()].map((chain) => chain.members));
  const picker = view.placeablePicker(
    (id) => held.get(id) ?? 0,
    (node) => node.capacity.chains,
  );
  for (const spec of [...desired.chains].sort((a, b) => compareText(a.name, b.name))) {
    const chain = view.chains.get(spec.name);
    if (chain === undefined) {
      out.block(`chain/${spec.name}`, 'the chain does not exist yet');
      continue;
    }
    const leader = chain.leader;
    if (!isLiveLeader(view, spec.name, leader)) {
      out.block(`chain/${spec.name}`, 'no live leader: membership waits for the chain to elect one');
      continue;
    }
    planMembers(out, spec, chain, leader, picker);
  }
  planReplicas(out);
}

function isLiveLeader(view: MeshView, chain: string, leader: NodeId | undefined): leader is NodeId {
  return leader !== undefined && view.isUp(leader) && view.node(leader).actualReplicas.has(chain);
}

function planMembers(
  out: Emitter,
  spec: ChainSpec,
  chain: ChainState,
  leader: NodeId,
  picker: NodePicker,
): void {
  const { view } = out;
  // The common case, cheaply: as many members as asked for, all keeping their copies.
  if (chain.members.length === spec.replicas && chain.members.every((id) => view.keepsCopies(id))) return;
  const members = [...chain.members].sort((a, b) => a - b);
  const staying = members.filter((id) => view.keepsCopies(id));
  const zones = new Set(staying.map((id) => view.node(id).observed.zone));
  const excluded = new Set(members);
  for (let missing = spec.replicas - staying.length; missing > 0; missing--) {
    const target = picker.pick(excluded, zones);
    if (target === undefined) {
      out.block(
        `chain/${spec.name}`,
        `${spec.replicas} replicas asked for, ${spec.replicas - missing} placed: no placeable node with room`,
      );
      break;
    }
    out.emit({
      kind: 'RequestPlacement',
      chain: spec.name,
      leader,
      exclude: [...excluded].sort((a, b) => a - b),
      target,
    });
    excluded.add(target);
    zones.add(view.node(target).observed.zone);
  }
  const caughtUp = new Set(staying.filter((id) => isCaughtUp(view, spec.name, id)));
  if (caughtUp.size < spec.replicas) return;
  for (const victim of members.filter((id) => !view.keepsCopies(id))) {
    out.emit({ kind: 'RequestEviction', chain: spec.name, leader, victim });
  }
  let spare = caughtUp.size - spec.replicas;
  const extras = staying
    .filter((id) => id !== leader)
    .sort((a, b) => evictionOrder(view, caughtUp, a, b))
    .slice(0, Math.max(0, staying.length - spec.replicas));
  for (const victim of extras) {
    if (caughtUp.has(victim)) {
      if (spare === 0) break;
      spare -= 1;
    }
    out.emit({ kind: 'RequestEviction', chain: spec.name, leader, victim });
  }
}

function isCaughtUp(view: MeshView, chain: string, node: NodeId): boolean {
  if (!view.isUp(node)) return false;
  const lag = view.node(node).actualReplicas.get(chain);
  return lag !== undefined && lag <= CAUGHT_UP_LAG_RECORDS;
}

/** Which extra member goes first: one not caught up, then on a node not placeable, then the highest id. */
function evictionOrder(view: MeshView, caughtUp: ReadonlySet<NodeId>, a: NodeId, b: NodeId): number {
  const upA = caughtUp.has(a) ? 1 : 0;
  const upB = caughtUp.has(b) ? 1 : 0;
  if (upA !== upB) return upA - upB;
  const placeableA = view.isPlaceable(a) ? 1 : 0;
  const placeableB = view.isPlaceable(b) ? 1 : 0;
  if (placeableA !== placeableB) return placeableA - placeableB;
  return b - a;
}

/** Every live node pulls the replicas it is a member for and drops the ones it is not. */
function planReplicas(out: Emitter): void {
  const { view } = out;
  for (const id of view.nodeIds) {
    if (!view.isUp(id)) continue;
    const node = view.node(id);
    for (const name of node.replicas.keys()) {
      const chain = view.chains.get(name);
      if (chain === undefined || !chain.members.includes(id))
        out.emit({ kind: 'DropReplica', chain: name, node: id });
    }
  }
  for (const [name, chain] of view.chains) {
    for (const member of chain.members) {
      if (!view.isStaying(member) || view.node(member).replicas.has(name)) continue;
      const source = sourceOf(view, name, chain, member);
      if (source === undefined)
        out.block(`chain/${name}`, `node ${member} cannot pull: no live replica holds the chain`);
      else out.emit({ kind: 'PullReplica', chain: name, node: member, source });
    }
  }
}

/** The leader when it is live, else the live holder least behind (then the smallest id). */
function sourceOf(view: MeshView, name: string, chain: ChainState, puller: NodeId): NodeId | undefined {
  if (chain.leader !== undefined && chain.leader !== puller && isLiveLeader(view, name, chain.leader))
    return chain.leader;
  let best: NodeId | undefined;
  let bestLag = Number.POSITIVE_INFINITY;
  for (const member of chain.members) {
    if (member === puller || !view.isUp(member)) continue;
    const lag = view.node(member).actualReplicas.get(name);
    if (
      lag !== undefined &&
      (lag < bestLag || (lag === bestLag && member < (best ?? Number.POSITIVE_INFINITY)))
    ) {
      best = member;
      bestLag = lag;
    }
  }
  return best;
}
