/**
 * The links a node's chains need. Membership dials a bounded share of the mesh
 * (`MAX_DIALED_NODES`), so past 33 nodes two replicas of one chain may not be linked, and a
 * message (an append pushed, an acknowledgement, a claim) travels only on its sender's own
 * link. The chains service therefore names, as its own peer set of the transport, every node
 * it shares a chain with: the other replicas and learners of each chain that names it.
 */
import type { ChainDefinition } from '../chains/index.js';
import { type Address, type Clock, type NodeId, parseAddress } from '../lib/index.js';
import type { PeerTransport } from '../transport/index.js';
import type { MembershipView } from './membership-view.js';

/** The transport's peer set the chains service makes up. */
export const CHAINS_PEER_SET = 'chains';
/** Longest wait between two looks at the definitions (a change wakes it sooner). */
export const CHAIN_LINKS_REFRESH_MS = 1_000;
/** Shortest time between two looks: a burst of definition changes is looked at once. */
export const CHAIN_LINKS_MIN_REFRESH_MS = 100;

/** The nodes `self` shares a chain with: the other replicas and learners of each chain naming it. */
export function chainPeers(self: NodeId, definitions: readonly ChainDefinition[]): Set<NodeId> {
  const peers = new Set<NodeId>();
  for (const definition of definitions) {
    const members = [...definition.replicas, ...(definition.learners ?? [])];
    if (!members.includes(self)) continue;
    for (const node of members) if (node !== self) peers.add(node);
  }
  return peers;
}

/** Keeps the transport's `chains` peer set equal to `chainPeers`, at the addresses `view` knows. */
export function followChainLinks(options: {
  readonly self: NodeId;
  readonly transport: PeerTransport;
  readonly view: MembershipView;
  readonly definitions: () => readonly ChainDefinition[];
  /** Resolves at the next change of a definition, or after `waitMs`. */
  readonly nextChange: (waitMs: number) => Promise<void>;
  readonly clock: Clock;
}): { stop(): void } {
  let stopped = false;
  const refresh = (): void => {
    if (stopped) return;
    const wanted = chainPeers(options.self, options.definitions());
    const peers = new Map<NodeId, Address>();
    for (const node of options.view.nodes()) {
      if (wanted.has(node.record.id)) peers.set(node.record.id, parseAddress(node.record.addresses.peer));
    }
    options.transport.setPeerSet(CHAINS_PEER_SET, peers);
  };
  const unsubscribe = options.view.onChange(refresh);
  void (async () => {
    while (!stopped) {
      refresh();
      await options.nextChange(CHAIN_LINKS_REFRESH_MS);
      // Changes in this pause are seen by the refresh after it.
      await new Promise<void>((resolve) => options.clock.setTimer(CHAIN_LINKS_MIN_REFRESH_MS, resolve));
    }
  })();
  return {
    stop: () => {
      stopped = true;
      unsubscribe();
      options.transport.setPeerSet(CHAINS_PEER_SET, new Map());
    },
  };
}
