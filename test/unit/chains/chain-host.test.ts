import { describe, expect, it } from 'vitest';
import {
  FAILOVER_PROPOSAL_FIRST_RETRY_MS,
  FAILOVER_PROPOSAL_MIN_INTERVAL_MS,
} from '../../../src/chains/chain-host.js';
import { encodeReplicaFrame } from '../../../src/chains/host-messages.js';
import { type Logger, ManualClock, type MeshError } from '../../../src/lib/index.js';
import {
  definitionOf,
  FakeDefinitions,
  FakeNetwork,
  fakeCodec,
  settle,
  startHost,
} from './chain-host-fakes.js';

describe('ChainHost', () => {
  it('opens a replica for each chain whose replicas or learners include it, and only those', async () => {
    const definitions = new FakeDefinitions();
    definitions.put(definitionOf('held', [1, 2, 3], 1));
    definitions.put(definitionOf('elsewhere', [2, 3, 4], 2));
    definitions.put({ ...definitionOf('learning', [2, 3, 4], 2), learners: [1] });
    const node = startHost(1, new FakeNetwork(), definitions, new ManualClock());
    await settle();
    expect([...node.opened.keys()].sort()).toEqual(['held', 'learning']);
    expect(node.opened.get('held')?.[0]?.directory).toBe('/data/1/chains/held');
    expect(node.host.replica('elsewhere')).toBeUndefined();
    await node.host.close();
    // Closing the host keeps the files: the replica reopens them on the next start.
    expect(node.opened.get('held')?.[0]?.closed).toBe(true);
    expect(node.removed).toEqual([]);
  });

  it('feeds definition changes to the replica, and closes and removes it on delete or removal', async () => {
    const definitions = new FakeDefinitions();
    definitions.put(definitionOf('a', [1, 2, 3], 1));
    definitions.put(definitionOf('b', [1, 2, 3], 1));
    const node = startHost(1, new FakeNetwork(), definitions, new ManualClock());
    await settle();
    definitions.put(definitionOf('a', [1, 2, 3], 2, 2));
    await settle();
    const replicaA = node.opened.get('a')![0]!;
    expect(replicaA.definitions.map((definition) => definition.epoch)).toEqual([2]);

    definitions.remove('a');
    definitions.put(definitionOf('b', [2, 3, 4], 2, 2));
    await settle();
    expect(replicaA.closed).toBe(true);
    expect(node.opened.get('b')![0]!.closed).toBe(true);
    expect(node.removed.sort()).toEqual(['/data/1/chains/a', '/data/1/chains/b']);
    expect(node.host.replica('a')).toBeUndefined();

    // Placed here again: a fresh replica (the old files are gone).
    definitions.put(definitionOf('b', [1, 3, 4], 3, 3));
    await settle();
    expect(node.opened.get('b')).toHaveLength(2);
    expect(node.host.replica('b')).toBe(node.opened.get('b')![1]);
  });

  it('refuses to open more chains than its limit, says so, and opens a refused one once a slot frees', async () => {
    const definitions = new FakeDefinitions();
    definitions.put(definitionOf('a', [1, 2], 1));
    definitions.put(definitionOf('b', [1, 2], 1));
    definitions.put(definitionOf('c', [1, 2], 1));
    const warnings: unknown[] = [];
    const logger = {
      warn: (fields: unknown) => warnings.push(fields),
      child: () => logger,
    } as unknown as Logger;
    const node = startHost(1, new FakeNetwork(), definitions, new ManualClock(), { maxChains: 2, logger });
    await settle();
    const open = () => [...node.opened.keys()].filter((name) => node.host.replica(name) !== undefined).sort();
    expect(open()).toEqual(['a', 'b']);
    expect(node.host.refusedChains()).toEqual(['c']);
    expect(node.host.replica('c')).toBeUndefined();
    const [warning] = warnings as { chain: string; err: MeshError }[];
    expect(warning?.chain).toBe('c');
    expect(warning?.err.code).toBe('CHAIN_LIMIT_REACHED');
    expect(warning?.err.message).toMatch(/node 1 holds 2 chains, its most \(max chains per node\): chain c/);
    // A new epoch of the refused chain is refused again, without a second warning.
    definitions.put(definitionOf('c', [1, 2], 2, 2));
    await settle();
    expect(warnings).toHaveLength(1);

    definitions.remove('a');
    await settle();
    expect(open()).toEqual(['b', 'c']);
    expect(node.host.refusedChains()).toEqual([]);
    await node.host.close();
  });

  it('routes replica messages by chain name, drops unknown chains and bad frames, reports peer losses', async () => {
    const network = new FakeNetwork();
    const definitions = new FakeDefinitions();
    definitions.put(definitionOf('a', [1, 2], 1));
    definitions.put(definitionOf('b', [1, 2], 1));
    const one = startHost(1, network, definitions, new ManualClock());
    const two = startHost(2, network, definitions, new ManualClock());
    await settle();
    const [oneA, oneB] = [one.opened.get('a')![0]!, one.opened.get('b')![0]!];
    const twoB = two.opened.get('b')![0]!;

    expect(oneB.send(2, { chain: 'b', text: 'hello' })).toBe(true);
    const link = network.link(3);
    link.send(1, encodeReplicaFrame(fakeCodec.encode({ chain: 'unknown', text: 'x' })));
    link.send(1, new Uint8Array([7, 7, 7]));
    await settle();
    expect(twoB.received).toEqual([{ from: 1, message: { chain: 'b', text: 'hello' } }]);
    expect(two.opened.get('a')![0]!.received).toEqual([]);
    expect(oneA.received).toEqual([]);
    expect(one.host.counters.decodeFailures).toBe(1);

    network.kill(2);
    expect(oneA.lostPeers).toEqual([2]);
    expect(oneB.lostPeers).toEqual([2]);
  });

  it('proposes a failover once per epoch when a replica suspects its leader, rate limited', async () => {
    const clock = new ManualClock();
    const definitions = new FakeDefinitions();
    definitions.put(definitionOf('a', [1, 2, 3], 2, 4));
    const node = startHost(1, new FakeNetwork(), definitions, clock);
    await settle();
    const replica = node.opened.get('a')![0]!;
    replica.suspectLeader();
    replica.suspectLeader();
    expect(node.proposals).toEqual([{ chain: 'a', epoch: 4, suspected: 2 }]);

    // The next epoch's leader suspected too soon after: held back until the interval passed.
    definitions.put(definitionOf('a', [1, 2, 3], 3, 5));
    await settle();
    replica.suspectLeader();
    expect(node.proposals).toHaveLength(1);
    clock.advance(FAILOVER_PROPOSAL_MIN_INTERVAL_MS);
    replica.suspectLeader();
    expect(node.proposals).toEqual([
      { chain: 'a', epoch: 4, suspected: 2 },
      { chain: 'a', epoch: 5, suspected: 3 },
    ]);
  });

  it('tries a proposal that was not committed again soon, backing off to the interval', async () => {
    const clock = new ManualClock();
    const definitions = new FakeDefinitions();
    definitions.put(definitionOf('a', [1, 2, 3], 2, 4));
    const attemptsAtMs: number[] = [];
    let failuresLeft = 6;
    const node = startHost(1, new FakeNetwork(), definitions, clock, {
      proposeFailover: async () => {
        attemptsAtMs.push(clock.nowMs());
        // As a control plane without a leader answers while it elects one.
        if (failuresLeft-- > 0) throw new Error('no leader is known');
      },
    });
    await settle();
    const startMs = clock.nowMs();
    node.opened.get('a')![0]!.suspectLeader();
    for (let step = 0; step < 80; step++) {
      await settle();
      clock.advance(FAILOVER_PROPOSAL_FIRST_RETRY_MS);
    }
    await settle();
    const first = FAILOVER_PROPOSAL_FIRST_RETRY_MS;
    const waits = attemptsAtMs.slice(1).map((atMs, index) => atMs - attemptsAtMs[index]!);
    expect(attemptsAtMs[0]).toBe(startMs);
    // 50, 100, 200, 400, 800 ms, then the interval; the seventh attempt commits and ends it.
    expect(waits).toEqual([
      first,
      2 * first,
      4 * first,
      8 * first,
      16 * first,
      FAILOVER_PROPOSAL_MIN_INTERVAL_MS,
    ]);
  });
});
