import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/raft/index.js';
import { bytes, Network } from './network.js';

function electedCluster(): Network {
  const network = new Network({ voters: [1, 2, 3], preVote: true, checkQuorum: true });
  network.elect(1);
  network.stabilize();
  return network;
}

const appendsFrom = (messages: readonly Message[], from: number): Message[] =>
  messages.filter((message) => message.type === 'append' && message.from === from);

describe('pipelined persistence (acceptReady, persistedThrough, deferWrites)', () => {
  it('holds new entries back from a deferred Ready but still sends them to followers', () => {
    const network = electedCluster();
    const leader = network.raft(1);
    const index = leader.propose(bytes('x'));
    expect(leader.hasReady({ deferWrites: true })).toBe(true);
    const deferred = leader.ready({ deferWrites: true });
    expect(deferred.entries).toEqual([]);
    expect(deferred.hardState).toBeUndefined();
    const appends = appendsFrom(deferred.messages, 1);
    expect(appends.length).toBe(2);
    for (const append of appends) {
      expect(append.type === 'append' && append.entries.map((entry) => entry.index)).toEqual([index]);
    }
    leader.acceptReady();
    // The entry is still waiting to be written: the next full Ready hands it over.
    const full = leader.ready();
    expect(full.entries.map((entry) => entry.index)).toEqual([index]);
    leader.acceptReady();
  });

  it('commits on the leader only once its own write and a follower acknowledgement are in', () => {
    const network = electedCluster();
    const leader = network.raft(1);
    const index = leader.propose(bytes('y'));
    const ready = leader.ready();
    expect(ready.entries.map((entry) => entry.index)).toEqual([index]);
    // As a host does: the entries go to the in-memory mirror of storage, the write starts.
    network.node(1).storage.append(ready.entries);
    leader.acceptReady();
    // Follower 2 writes the entry and acknowledges it.
    const follower = network.raft(2);
    for (const message of appendsFrom(ready.messages, 1)) if (message.to === 2) follower.step(message);
    const followerReady = follower.ready();
    network.node(2).storage.append(followerReady.entries);
    follower.acceptReady();
    follower.persistedThrough(index, follower.term);
    for (const message of followerReady.messagesAfterPersist) leader.step(message);
    // With the leader's own copy still being written, one acknowledgement is 1 of 3.
    expect(leader.status().commit).toBeLessThan(index);
    leader.persistedThrough(index, leader.term);
    expect(leader.status().commit).toBe(index);
  });

  it('keeps a follower acknowledgement back until the entries it covers are written', () => {
    const network = electedCluster();
    const leader = network.raft(1);
    const index = leader.propose(bytes('z'));
    const leaderReady = leader.ready();
    leader.acceptReady();
    const follower = network.raft(2);
    for (const message of appendsFrom(leaderReady.messages, 1)) if (message.to === 2) follower.step(message);
    // A write is in flight on the follower: the deferred Ready carries neither the entry nor its ack.
    const deferred = follower.ready({ deferWrites: true });
    expect(deferred.entries).toEqual([]);
    expect(deferred.messagesAfterPersist).toEqual([]);
    follower.acceptReady();
    const full = follower.ready();
    expect(full.entries.map((entry) => entry.index)).toEqual([index]);
    const acks = full.messagesAfterPersist.filter((message) => message.type === 'appendResponse');
    expect(acks.length).toBe(1);
    follower.acceptReady();
    follower.persistedThrough(index, follower.term);
    expect(follower.hasReady()).toBe(false);
  });
});
