/**
 * Replacement of members whose node is gone for good (docs/DAEMONS.md "Replacing a member"): a
 * member's node that is not registered (its lease expired) is gone from the moment this node
 * noticed; once gone past the grace period (`--daemon-repair-grace-ms`), the member moves to a
 * healthy node that holds no member of the daemon (`replacementNode`: least loaded, then id) by a
 * compare-and-swap of the definition, fenced like a promotion. The new node's member starts
 * empty and replays the inbound chain, as a restarted member does. The active is never moved
 * this way: a gone active is replaced by a promotion first, long before the grace period ends.
 */
import type { ControlCompare } from '../control/index.js';
import { type DaemonDirectory, type StoredDaemon, withReplacedMember } from '../daemons/directory.js';
import { type DaemonPlacementNode, replacementNode } from '../daemons/placement.js';
import type { Clock, Logger, NodeId } from '../lib/index.js';

export interface DaemonRepairOptions {
  readonly directory: DaemonDirectory;
  readonly graceMs: number;
  readonly clock: Clock;
  readonly logger?: Logger;
}

export class DaemonRepair {
  /** Members' nodes not registered, since when this node noticed. */
  private readonly goneSince = new Map<NodeId, number>();
  /** Members this node replaced. */
  replacements = 0;

  constructor(private readonly options: DaemonRepairOptions) {}

  /** Notes which members' nodes are gone (every node does, so a new coordinator has no late start). */
  notice(daemons: Iterable<StoredDaemon>, nodes: readonly DaemonPlacementNode[]): void {
    const registered = new Set(nodes.map((node) => node.id));
    for (const node of this.goneSince.keys()) if (registered.has(node)) this.goneSince.delete(node);
    const nowMs = this.options.clock.nowMs();
    for (const { definition } of daemons) {
      for (const member of definition.members) {
        if (!registered.has(member.node) && !this.goneSince.has(member.node))
          this.goneSince.set(member.node, nowMs);
      }
    }
  }

  /** Replaces every standby whose node has been gone past the grace period, one change per daemon. */
  async repair(
    daemons: readonly StoredDaemon[],
    nodes: readonly DaemonPlacementNode[],
    fence: readonly ControlCompare[],
  ): Promise<void> {
    const { directory, clock, graceMs, logger } = this.options;
    const existing = daemons.map((stored) => stored.definition);
    for (const stored of daemons) {
      const { definition } = stored;
      // Every replica member takes events: one whose node is lost is moved at once, at a new
      // epoch (the coordinator's relocateReplicas), not here.
      if (definition.group === 'replica') continue;
      const gone = definition.members.find((member) => {
        const since = this.goneSince.get(member.node);
        return member.index !== definition.active && since !== undefined && clock.nowMs() - since >= graceMs;
      });
      if (gone === undefined) continue;
      const node = replacementNode(definition, nodes, existing);
      if (node === undefined) {
        logger?.debug(
          { daemon: definition.name, member: gone.index },
          'daemons: no node to replace a member on',
        );
        continue;
      }
      const answer = await directory.swap(stored, withReplacedMember(definition, gone.index, node), fence);
      if (!answer.applied) continue;
      this.replacements += 1;
      logger?.info(
        { daemon: definition.name, member: gone.index, from: gone.node, to: node },
        'daemons: replaced a member whose node is gone',
      );
    }
  }
}
