import { describe, expect, it } from 'vitest';
import { AssertionError, isMeshError } from '../../../src/lib/index.js';
import { NotLeaderError } from '../../../src/raft/index.js';
import { bytes, Network } from './network.js';

describe('leader election (Raft paper section 5.2)', () => {
  it('a candidate with votes from a majority becomes leader and appends a no-op', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    expect(network.raft(1).role).toBe('leader');
    // Founders start in term 1 with the committed bootstrap configuration entry at index 1.
    expect(network.raft(1).term).toBe(2);
    expect(network.raft(2).leaderId).toBe(1);
    expect(network.raft(3).leaderId).toBe(1);
    // The no-op of term 2 is committed everywhere.
    for (const id of [1, 2, 3]) {
      expect(network.raft(id).status().commit).toBe(2);
      expect(network.node(id).appliedEntries.map((entry) => entry.kind)).toEqual(['config', 'noop']);
    }
  });

  it('an election timeout starts an election from ticks alone', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.tickAll(25);
    expect(network.leaders()).toHaveLength(1);
  });

  it('replicates and commits proposals on every node in order', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    for (const text of ['a', 'b', 'c']) network.propose(1, text);
    for (const id of [1, 2, 3]) expect(network.node(id).applied).toEqual(['a', 'b', 'c']);
  });

  it('a single voter elects itself and commits after persisting', () => {
    const network = new Network({ voters: [1] });
    network.elect(1);
    expect(network.raft(1).role).toBe('leader');
    network.propose(1, 'only');
    expect(network.node(1).applied).toEqual(['only']);
  });

  it('refuses votes to a candidate whose log is less up to date (section 5.4.1)', () => {
    const network = new Network({ voters: [1, 2, 3], logs: { 1: [1], 2: [1, 1], 3: [1, 1] } });
    network.elect(1);
    expect(network.raft(1).role).not.toBe('leader');
    network.elect(2);
    expect(network.raft(2).role).toBe('leader');
  });

  it('a leader steps down when it sees a higher term', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.isolate(1);
    network.elect(2);
    expect(network.raft(2).role).toBe('leader');
    expect(network.raft(1).role).toBe('leader');
    network.heal();
    network.tickAll(1);
    expect(network.raft(1).role).toBe('follower');
    expect(network.raft(1).term).toBe(network.raft(2).term);
    expect(network.raft(1).leaderId).toBe(2);
  });

  it('never grants two votes in one term', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.cut(1, 3);
    network.cut(2, 3);
    network.raft(1).campaign();
    network.collect();
    // Node 2 votes for 1; then 3 asks for the same term.
    network.stabilize();
    expect(network.raft(1).role).toBe('leader');
    expect(network.raft(2).status().vote).toBe(1);
  });

  it('proposals without a leader throw NOT_LEADER, naming the leader when known', () => {
    const network = new Network({ voters: [1, 2, 3] });
    expect(() => network.raft(1).propose(bytes('x'))).toThrow(NotLeaderError);
    network.elect(1);
    try {
      network.raft(2).propose(bytes('x'));
      expect.unreachable();
    } catch (error) {
      expect(isMeshError(error, 'NOT_LEADER')).toBe(true);
      expect((error as NotLeaderError).leaderId).toBe(1);
    }
  });

  it('calling ready() twice without advance() is a programming error', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.raft(1).campaign();
    network.raft(1).ready();
    expect(() => network.raft(1).ready()).toThrow(AssertionError);
    network.raft(1).advance();
    expect(() => network.raft(1).advance()).toThrow(AssertionError);
  });

  it('the election timeout is randomized in [electionTicks, 2 * electionTicks)', () => {
    const timeouts = new Set<number>();
    for (let seed = 1; seed <= 30; seed++) {
      const network = new Network({ voters: [1, 2, 3], seed });
      let ticks = 0;
      while (network.raft(1).role === 'follower') {
        network.tick(1);
        ticks++;
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
      timeouts.add(ticks);
    }
    expect(timeouts.size).toBeGreaterThan(3);
  });
});

describe('pre-vote and check-quorum (thesis sections 9.6 and 6.2)', () => {
  it('pre-vote keeps a partitioned node from inflating its term', () => {
    const network = new Network({ voters: [1, 2, 3], preVote: true });
    network.elect(1);
    network.isolate(3);
    for (let round = 0; round < 100; round++) {
      network.tick(3);
      network.stabilize();
    }
    expect(network.raft(3).term).toBe(2);
    expect(network.raft(3).role).toBe('preCandidate');
    network.heal();
    network.tickAll(2);
    // The rejoining node did not disrupt the leader.
    expect(network.raft(1).role).toBe('leader');
    expect(network.raft(1).term).toBe(2);
    expect(network.raft(3).leaderId).toBe(1);
  });

  it('without pre-vote the partitioned node inflates its term and disrupts the leader', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.isolate(3);
    for (let round = 0; round < 100; round++) network.tick(3);
    network.stabilize();
    expect(network.raft(3).term).toBeGreaterThan(2);
    network.heal();
    network.tickAll(30);
    expect(network.raft(1).term).toBeGreaterThan(2);
  });

  it('a leader that has not heard from a quorum for an election timeout steps down', () => {
    const network = new Network({ voters: [1, 2, 3], checkQuorum: true });
    network.elect(1);
    network.isolate(1);
    for (let round = 0; round < 25; round++) {
      network.tick(1);
      network.stabilize();
    }
    expect(network.raft(1).role).toBe('follower');
    expect(network.raft(1).leaderId).toBe(0);
  });

  it('a leader with a live quorum keeps leading under check-quorum', () => {
    const network = new Network({ voters: [1, 2, 3], checkQuorum: true });
    network.elect(1);
    network.isolate(3);
    for (let round = 0; round < 25; round++) {
      network.tick(1);
      network.stabilize();
    }
    expect(network.raft(1).role).toBe('leader');
  });

  it('leader stickiness: followers in touch with a leader ignore a campaign', () => {
    const network = new Network({ voters: [1, 2, 3], checkQuorum: true });
    network.elect(1);
    network.tick(1);
    network.stabilize();
    network.elect(3);
    expect(network.raft(1).role).toBe('leader');
    expect(network.raft(2).leaderId).toBe(1);
    expect(network.raft(3).role).toBe('candidate');
    expect(network.raft(2).term).toBe(2);
  });

  it('a learner never campaigns', () => {
    const network = new Network({ voters: [1, 2], learners: [3] });
    expect(network.raft(3).role).toBe('learner');
    for (let round = 0; round < 50; round++) network.tick(3);
    network.stabilize();
    expect(network.raft(3).role).toBe('learner');
    expect(network.raft(3).term).toBe(1);
  });
});
