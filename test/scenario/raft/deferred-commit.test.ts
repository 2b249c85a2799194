import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/raft/index.js';
import { bytes, Network } from './network.js';

const commitOnly = (message: Message): boolean => message.type === 'append' && message.entries.length === 0;

/** Both followers were sent a commit-only append and applied `data` last. */
function expectCommitSentAtOnceToBoth(seen: readonly Message[], network: Network, data: string): void {
  expect(
    seen
      .filter(commitOnly)
      .map((message) => message.to)
      .sort(),
  ).toEqual([2, 3]);
  for (const id of [2, 3]) expect(network.node(id).applied.at(-1)).toBe(data);
}

/** Three voters with `deferCommitOnlyAppends`, node 1 leading; every message is noted in `seen`. */
function deferringCluster(): { network: Network; seen: Message[] } {
  // A heartbeat every 5 ticks: the ticks below send the deferred commit, not a heartbeat.
  const network = new Network({ voters: [1, 2, 3], deferCommitOnlyAppends: true, heartbeatTicks: 5 });
  network.elect(1);
  const seen: Message[] = [];
  network.filter = (message) => {
    seen.push(message);
    return true;
  };
  return { network, seen };
}

describe('deferCommitOnlyAppends', () => {
  it('sends no empty append for a new commit; the next append carries it', () => {
    const { network, seen } = deferringCluster();
    const first = network.propose(1, 'a');
    expect(network.raft(1).status().commit).toBe(first);
    expect(seen.filter(commitOnly)).toEqual([]);
    // The followers hold the entry but have not heard it committed.
    for (const id of [2, 3]) expect(network.node(id).applied.at(-1)).not.toBe('a');

    seen.length = 0;
    network.propose(1, 'b');
    const appends = seen.filter((message) => message.type === 'append' && message.entries.length > 0);
    expect(appends.map((message) => message.type === 'append' && message.commit)).toEqual([first, first]);
    for (const id of [2, 3]) expect(network.node(id).applied).toContain('a');
  });

  it('sends a commit no append carried on the next tick, once', () => {
    const { network, seen } = deferringCluster();
    const index = network.propose(1, 'a');
    expect(seen.filter(commitOnly)).toEqual([]);
    network.tick(1);
    network.stabilize();
    const sent = seen.filter(commitOnly);
    expect(sent.map((message) => message.to).sort()).toEqual([2, 3]);
    for (const message of sent) expect(message.type === 'append' && message.commit).toBe(index);
    for (const id of [2, 3]) expect(network.node(id).applied.at(-1)).toBe('a');

    // Every follower has it now: the next tick sends nothing.
    seen.length = 0;
    network.tick(1);
    network.stabilize();
    expect(seen).toEqual([]);
  });

  it('sends the commit of an urgent proposal at once', () => {
    const { network, seen } = deferringCluster();
    network.raft(1).propose(bytes('forwarded'), true);
    network.stabilize();
    expectCommitSentAtOnceToBoth(seen, network, 'forwarded');

    // Only that commit: a later ordinary proposal is deferred again.
    seen.length = 0;
    network.propose(1, 'plain');
    expect(seen.filter(commitOnly)).toEqual([]);
  });

  it('sends the commit of a proposal urgent for one follower to that follower at once, to the other on the next tick', () => {
    const { network, seen } = deferringCluster();
    network.raft(1).propose(bytes('from 2'), 2);
    network.stabilize();
    expect(seen.filter(commitOnly).map((message) => message.to)).toEqual([2]);
    expect(network.node(2).applied.at(-1)).toBe('from 2');
    expect(network.node(3).applied.at(-1)).not.toBe('from 2');

    seen.length = 0;
    network.tick(1);
    network.stabilize();
    expect(seen.filter(commitOnly).map((message) => message.to)).toEqual([3]);
    expect(network.node(3).applied.at(-1)).toBe('from 2');
  });

  it('without the option, every commit is sent at once', () => {
    const network = new Network({ voters: [1, 2, 3], heartbeatTicks: 5 });
    network.elect(1);
    const seen: Message[] = [];
    network.filter = (message) => {
      seen.push(message);
      return true;
    };
    network.propose(1, 'a');
    expectCommitSentAtOnceToBoth(seen, network, 'a');
  });
});
