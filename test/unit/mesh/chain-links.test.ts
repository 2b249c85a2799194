/**
 * The chains service's own peer set: every node a chain names beside this one, so replicas of
 * one chain are linked even where membership's bounded dialing (past 33 nodes) leaves them not.
 */
import { describe, expect, it } from 'vitest';
import type { ChainDefinition } from '../../../src/chains/index.js';
import { type Address, formatAddress, ManualClock, type NodeId } from '../../../src/lib/index.js';
import {
  CHAIN_LINKS_MIN_REFRESH_MS,
  CHAINS_PEER_SET,
  chainPeers,
  followChainLinks,
} from '../../../src/mesh/chain-links.js';
import type { MembershipView } from '../../../src/mesh/index.js';
import type { PeerTransport } from '../../../src/transport/index.js';
import { chain } from '../chains/placement-fixtures.js';

describe('chainPeers', () => {
  it('names the other replicas and learners of every chain naming this node, and nothing else', () => {
    const definitions: ChainDefinition[] = [
      chain('a', [1, 2, 3]),
      chain('b', [4, 5, 6], { learners: [1] }),
      chain('c', [7, 8, 9]),
      chain('d', [2, 1], { learners: [10] }),
    ];
    expect([...chainPeers(1, definitions)].sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 10]);
    expect([...chainPeers(11, definitions)]).toEqual([]);
  });
});

describe('followChainLinks', () => {
  it("keeps the transport's chains peer set on the nodes shared a chain with, at their addresses", async () => {
    const peerSets: Map<NodeId, Address>[] = [];
    const transport = {
      setPeerSet: (owner: string, peers: ReadonlyMap<NodeId, Address>) => {
        expect(owner).toBe(CHAINS_PEER_SET);
        peerSets.push(new Map(peers));
      },
    } as unknown as PeerTransport;
    const registered = [1, 2, 3, 4].map((id) => ({
      health: 'alive',
      record: { id, addresses: { peer: `127.0.0.1:${7000 + id}`, admin: '127.0.0.1:1' } },
    }));
    const viewListeners: (() => void)[] = [];
    const view = {
      nodes: () => registered,
      onChange: (listener: () => void) => {
        viewListeners.push(listener);
        return () => viewListeners.splice(viewListeners.indexOf(listener), 1);
      },
    } as unknown as MembershipView;
    let definitions: ChainDefinition[] = [chain('a', [1, 2])];
    let wake: (() => void) | undefined;
    const clock = new ManualClock();
    const links = followChainLinks({
      self: 1,
      transport,
      view,
      definitions: () => definitions,
      nextChange: () => new Promise<void>((resolve) => (wake = resolve)),
      clock,
    });
    const last = () =>
      [...(peerSets.at(-1) ?? new Map()).entries()].map(([id, address]) => [id, formatAddress(address)]);
    expect(last()).toEqual([[2, '127.0.0.1:7002']]);

    // A chain placed on 1, 3 and 5: 3 is linked; 5 is not registered (no address) until it is.
    definitions = [...definitions, chain('b', [3, 1, 5])];
    wake?.();
    await Promise.resolve();
    clock.advance(CHAIN_LINKS_MIN_REFRESH_MS);
    await new Promise((resolve) => setImmediate(resolve));
    expect(last()).toEqual([
      [2, '127.0.0.1:7002'],
      [3, '127.0.0.1:7003'],
    ]);
    registered.push({
      health: 'alive',
      record: { id: 5, addresses: { peer: '127.0.0.1:7005', admin: '127.0.0.1:1' } },
    });
    for (const listener of viewListeners) listener();
    expect(last().map(([id]) => id)).toEqual([2, 3, 5]);

    links.stop();
    expect(last()).toEqual([]);
    expect(viewListeners).toEqual([]);
  });
});
