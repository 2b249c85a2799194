import { describe, expect, it } from 'vitest';
import { MAX_COMMITTED_ENTRIES_PER_READY } from '../../../src/raft/index.js';
import { Network } from './network.js';

describe('a large commit is handed to the host in bounded Readys', () => {
  it('applies a backlog of several Readys in order, none over the bound, and a read after it sees all of it', () => {
    // Every node holds the same long log of term 1, none of it committed yet: electing a leader
    // commits it all at once (with the leader's empty entry of term 2).
    const backlog = 3 * MAX_COMMITTED_ENTRIES_PER_READY + 17;
    const log = Array.from({ length: backlog }, () => 1);
    const network = new Network({ voters: [1, 2, 3], logs: { 1: log, 2: log, 3: log } });
    network.elect(1);
    const lastIndex = backlog + 1;
    for (const id of [1, 2, 3]) {
      const node = network.node(id);
      // In order, each index once.
      expect(node.appliedEntries.map((entry) => entry.index)).toEqual(
        Array.from({ length: lastIndex }, (_, position) => position + 1),
      );
      // Spread over several Readys, none carrying more than the bound.
      expect(Math.max(...node.committedPerReady)).toBeLessThanOrEqual(MAX_COMMITTED_ENTRIES_PER_READY);
      expect(node.committedPerReady.filter((count) => count > 0).length).toBeGreaterThanOrEqual(
        Math.ceil(lastIndex / MAX_COMMITTED_ENTRIES_PER_READY),
      );
    }
    // A linearizable read through a follower, once released, is at or past the whole backlog,
    // which the follower has applied.
    network.raft(3).readIndex('after-backlog');
    network.stabilize();
    const [state] = network.node(3).readStates;
    expect(state?.requestId).toBe('after-backlog');
    expect(state?.index).toBeGreaterThanOrEqual(lastIndex);
    expect(network.node(3).appliedEntries.at(-1)?.index).toBeGreaterThanOrEqual(state?.index ?? Infinity);
  });
});
