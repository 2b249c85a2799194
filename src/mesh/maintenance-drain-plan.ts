/**
 * The daemon steps of a drain (pure): for each daemon member on the draining node, the one change
 * that moves it off, chosen so that no acknowledged event is lost and the pause is the smallest:
 *
 * - **the active** of a standby, fork or single group is moved (`daemon move`'s six phases,
 *   which hold sends only for the cutover) to the standby that applied the most on a node that
 *   takes placements (no checkpoint to transfer: the shortest pause); without one, to the least
 *   loaded such node with no member of the daemon;
 * - **a standby** is re-homed: its place in the definition goes to a node that takes placements
 *   and runs no member of the daemon (the active and the epoch stay; the new member catches up
 *   from a checkpoint and the chain, as a repaired one does); nothing pauses;
 * - **a replica group's member** is rebuilt on such a node at a new epoch (as when its node is
 *   lost), which fences whatever the old member still appends; its events wait for the new one.
 *
 * A member with no node to go to is `stuck`, with the reason a DrainFailed names.
 */

import { type DaemonPlacementNode, replacementNode } from '../daemons/placement.js';
import type { DaemonDefinition } from '../daemons/types.js';
import type { NodeId } from '../lib/index.js';

export type DaemonDrainStep =
  | { readonly type: 'move-active'; readonly daemon: string; readonly index: number; readonly to: NodeId }
  | { readonly type: 'rehome-standby'; readonly daemon: string; readonly index: number; readonly to: NodeId }
  | {
      readonly type: 'relocate-replica';
      readonly daemon: string;
      readonly index: number;
      readonly to: NodeId;
    }
  | { readonly type: 'stuck'; readonly daemon: string; readonly index: number; readonly reason: string };

export interface DaemonDrainQuestion {
  /** The draining node. */
  readonly node: NodeId;
  readonly definitions: readonly DaemonDefinition[];
  /** Every node, healthy or not; `placeable` false for nodes that take no placements. */
  readonly nodes: readonly DaemonPlacementNode[];
  /** What a member reported it applied (exclusive inbound offset); undefined when unknown. */
  readonly syncedThrough: (daemon: string, index: number) => number | undefined;
}

/** One step per daemon with a member on the node, in daemon name order. */
export function planDaemonDrain(question: DaemonDrainQuestion): DaemonDrainStep[] {
  const { node, nodes } = question;
  const takesPlacements = new Set(
    nodes
      .filter((candidate) => candidate.healthy && candidate.placeable !== false)
      .map((candidate) => candidate.id),
  );
  const steps: DaemonDrainStep[] = [];
  const definitions = [...question.definitions].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const definition of definitions) {
    const member = definition.members.find((placed) => placed.node === node);
    if (member === undefined) continue;
    const { name } = definition;
    const free = replacementNode(definition, nodes, question.definitions);
    if (definition.group === 'replica') {
      steps.push(
        free === undefined
          ? { type: 'stuck', daemon: name, index: member.index, reason: noNode('to rebuild it on') }
          : { type: 'relocate-replica', daemon: name, index: member.index, to: free },
      );
      continue;
    }
    if (member.index !== definition.active) {
      steps.push(
        free === undefined
          ? { type: 'stuck', daemon: name, index: member.index, reason: noNode('to re-home it to') }
          : { type: 'rehome-standby', daemon: name, index: member.index, to: free },
      );
      continue;
    }
    const standby = definition.members
      .filter((placed) => placed.index !== member.index && takesPlacements.has(placed.node))
      .map((placed) => ({ node: placed.node, synced: question.syncedThrough(name, placed.index) ?? -1 }))
      .sort((a, b) => b.synced - a.synced || a.node - b.node)[0];
    const to = standby?.node ?? free;
    steps.push(
      to === undefined
        ? {
            type: 'stuck',
            daemon: name,
            index: member.index,
            reason: 'no healthy Active node to move the active to (no standby there, no free node)',
          }
        : { type: 'move-active', daemon: name, index: member.index, to },
    );
  }
  return steps;
}

function noNode(purpose: string): string {
  return `no healthy Active node without a member of the daemon ${purpose}`;
}
