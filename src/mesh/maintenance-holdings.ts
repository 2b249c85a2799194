/**
 * What a node holds that a drain must move away, read from the definitions in the control plane
 * (pure): the daemon members placed on it and the chains naming it as a replica or a learner.
 * A drain is done when this is empty; `meshos node maintenance status` shows it.
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

export interface NodeHoldings {
  readonly daemons: readonly HeldDaemonMember[];
  readonly chains: readonly HeldChainReplica[];
}

export function holdingsOf(
  node: NodeId,
  daemons: Iterable<DaemonDefinition>,
  chains: Iterable<ChainDefinition>,
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
  return { daemons: heldDaemons, chains: heldChains };
}

export function isEmpty(holdings: NodeHoldings): boolean {
  return holdings.daemons.length === 0 && holdings.chains.length === 0;
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
  ];
}
