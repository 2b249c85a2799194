/**
 * What a node holds that a drain must move away, read from the definitions in the control plane
 * (pure): the daemon members placed on it, the chains naming it as a replica or a learner, and
 * its blob copies whose blob has fewer than its replica count on other nodes that keep copies
 * (the reconciler makes those copies; the drain waits for them). A drain is done when this is
 * empty; `meshos node maintenance status` shows it.
 */
import type { ChainDefinition } from '../chains/index.js';
import type { DaemonDefinition } from '../daemons/types.js';
import type { NodeId } from '../lib/index.js';

export interface HeldDaemonMember {
  readonly daemon: string;
  readonly index: number;
  readonly role: 'active' | 'standby' | 'replica';
}

export interface HeldChainReplica {
  readonly chain: string;
  readonly role: 'leader' | 'replica' | 'learner';
}

/** A blob copy on the node that its blob still needs: `kept` copies elsewhere, `replicas` asked for. */
export interface HeldBlobCopy {
  readonly blob: string;
  readonly replicas: number;
  readonly kept: number;
}

/** A blob's record as the holdings read it. */
export interface BlobHolders {
  readonly id: string;
  readonly replicas: number;
  readonly holders: readonly NodeId[];
}

export interface NodeHoldings {
  readonly daemons: readonly HeldDaemonMember[];
  readonly chains: readonly HeldChainReplica[];
  readonly blobs: readonly HeldBlobCopy[];
}

/**
 * The node's blob copies the replica count still needs: its blob has fewer than `replicas`
 * holders among the other nodes that `keepsCopies` (up and not draining, as reconcile counts).
 */
export function neededBlobCopies(
  node: NodeId,
  blobs: Iterable<BlobHolders>,
  keepsCopies: (node: NodeId) => boolean,
): HeldBlobCopy[] {
  const needed: HeldBlobCopy[] = [];
  for (const blob of blobs) {
    if (!blob.holders.includes(node)) continue;
    const kept = blob.holders.filter((holder) => holder !== node && keepsCopies(holder)).length;
    if (kept < blob.replicas) needed.push({ blob: blob.id, replicas: blob.replicas, kept });
  }
  return needed.sort((a, b) => (a.blob < b.blob ? -1 : a.blob > b.blob ? 1 : 0));
}

export function holdingsOf(
  node: NodeId,
  daemons: Iterable<DaemonDefinition>,
  chains: Iterable<ChainDefinition>,
  blobs: readonly HeldBlobCopy[] = [],
): NodeHoldings {
  const heldDaemons: HeldDaemonMember[] = [];
  for (const definition of daemons) {
    for (const member of definition.members) {
      if (member.node !== node) continue;
      const role =
        definition.group === 'replica'
          ? 'replica'
          : member.index === definition.active
            ? 'active'
            : 'standby';
      heldDaemons.push({ daemon: definition.name, index: member.index, role });
    }
  }
  const heldChains: HeldChainReplica[] = [];
  for (const chain of chains) {
    if (chain.replicas.includes(node))
      heldChains.push({ chain: chain.name, role: chain.leader === node ? 'leader' : 'replica' });
    else if (chain.learners?.includes(node)) heldChains.push({ chain: chain.name, role: 'learner' });
  }
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  heldDaemons.sort((a, b) => byName(a.daemon, b.daemon) || a.index - b.index);
  heldChains.sort((a, b) => byName(a.chain, b.chain));
  return { daemons: heldDaemons, chains: heldChains, blobs };
}

export function isEmpty(holdings: NodeHoldings): boolean {
  return holdings.daemons.length === 0 && holdings.chains.length === 0 && holdings.blobs.length === 0;
}

/** Why a held member or replica did not move, when known. */
export interface HoldingReasons {
  readonly daemon?: (member: HeldDaemonMember) => string | undefined;
  readonly chain?: (replica: HeldChainReplica) => string | undefined;
}

/** One line per thing held, as a DrainFailed reason names it, with why it did not move when known. */
export function describeHoldings(holdings: NodeHoldings, reasons: HoldingReasons = {}): string[] {
  const withReason = (line: string, reason: string | undefined) =>
    reason === undefined ? line : `${line}: ${reason}`;
  return [
    ...holdings.daemons.map((member) =>
      withReason(`daemon ${member.daemon} member ${member.index} (${member.role})`, reasons.daemon?.(member)),
    ),
    ...holdings.chains.map((replica) =>
      withReason(`chain ${replica.chain} (${replica.role})`, reasons.chain?.(replica)),
    ),
    ...holdings.blobs.map(
      (copy) => `blob ${copy.blob} (${copy.kept} of ${copy.replicas} copies on other nodes)`,
    ),
  ];
}
