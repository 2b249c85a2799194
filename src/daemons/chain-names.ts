/**
 * The chains a deployed daemon runs on: an inbound chain (the order its member applies events
 * in) and an output chain (what its active produced). A single, standby or fork group has one
 * pair that every member follows; each member of a replica group has its own pair, since each
 * replica is an independent copy serving its own share of the events. Names derive from the
 * daemon's (and the member's index), so any node finds them without a lookup.
 *
 * A replica member's chains end in `.<index>` and a group's in `.inbound` or `.outputs`, so no
 * daemon name makes one daemon's chain name another's.
 */
import type { DaemonDefinition } from './types.js';

export function inboundChainName(daemon: string): string {
  return `daemon.${daemon}.inbound`;
}

export function outputChainName(daemon: string): string {
  return `daemon.${daemon}.outputs`;
}

/** The inbound and output chains one member appends to and follows. */
export interface MemberChains {
  readonly inbound: string;
  readonly outputs: string;
}

type ChainedDaemon = Pick<DaemonDefinition, 'name' | 'group'>;

/** Member `index`'s chains: its own in a replica group, the daemon's pair otherwise. */
export function memberChains(definition: ChainedDaemon, index: number): MemberChains {
  if (definition.group === 'replica')
    return {
      inbound: `${inboundChainName(definition.name)}.${index}`,
      outputs: `${outputChainName(definition.name)}.${index}`,
    };
  return { inbound: inboundChainName(definition.name), outputs: outputChainName(definition.name) };
}

/** Every distinct chain pair of a daemon of `memberCount` members: one, or one per replica. */
export function daemonChainPairs(definition: ChainedDaemon, memberCount: number): MemberChains[] {
  const count = definition.group === 'replica' ? memberCount : 1;
  return Array.from({ length: count }, (_, index) => memberChains(definition, index));
}

/** Every chain of a daemon, inbound before outputs per pair (deploy creates, remove deletes them). */
export function daemonChainNames(definition: DaemonDefinition): string[] {
  return daemonChainPairs(definition, definition.members.length).flatMap((pair) => [
    pair.inbound,
    pair.outputs,
  ]);
}

/** A standby, single or fork group's inbound chain (the chains a trim floor applies to). */
export function isDaemonInboundChain(chain: string): boolean {
  return chain.startsWith('daemon.') && chain.endsWith('.inbound');
}
