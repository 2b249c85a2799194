import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import { ConfigChangeInProgressError } from '../../../src/raft/index.js';
import { Network } from './network.js';

describe('membership changes (thesis chapter 4)', () => {
  it('a learner is added, catches up without voting, and is promoted to voter', () => {
    const network = new Network({ voters: [1, 2, 3], spare: [4] });
    network.elect(1);
    for (const text of ['a', 'b']) network.propose(1, text);
    network.raft(1).proposeConfigChange({ type: 'addLearner', node: 4 });
    network.stabilize();
    network.tickAll(2);
    expect(network.raft(4).role).toBe('learner');
    expect(network.node(4).applied).toEqual(['a', 'b']);
    expect(network.raft(1).config.learners).toEqual([4]);
    // The learner does not count: with two voters gone nothing commits even though 4 acks.
    network.isolate(2);
    network.isolate(3);
    const index = network.raft(1).propose(new TextEncoder().encode('blocked'));
    network.stabilize();
    expect(network.raft(1).status().commit).toBeLessThan(index);
    network.heal();
    network.tickAll(2);
    network.raft(1).proposeConfigChange({ type: 'promoteLearner', node: 4 });
    network.stabilize();
    network.tickAll(2);
    for (const id of [1, 2, 3, 4]) {
      expect(network.raft(id).config).toEqual({ voters: [1, 2, 3, 4], learners: [], outgoingVoters: [] });
    }
    expect(network.raft(4).role).toBe('follower');
  });

  it('joint consensus: entering joint then leaving it automatically once the joint entry commits', () => {
    const network = new Network({ voters: [1, 2, 3], spare: [4] });
    network.elect(1);
    const configs: string[] = [];
    network.raft(1).proposeConfigChange({ type: 'changeVoters', add: [4], remove: [3] });
    // A configuration takes effect as soon as it is appended, before it commits.
    expect(network.raft(1).config).toEqual({ voters: [1, 2, 4], learners: [], outgoingVoters: [1, 2, 3] });
    configs.push(JSON.stringify(network.raft(1).config));
    network.stabilize();
    network.tickAll(2);
    expect(network.raft(1).config).toEqual({ voters: [1, 2, 4], learners: [], outgoingVoters: [] });
    const changes = network
      .node(2)
      .appliedEntries.filter((entry) => entry.kind === 'config' && entry.index > 1);
    expect(changes).toHaveLength(2);
    network.propose(1, 'after');
    expect(network.node(4).applied).toEqual(['after']);
  });

  it('in joint consensus both the old and the new majority must agree to commit', () => {
    const network = new Network({ voters: [1, 2, 3], spare: [4, 5] });
    network.elect(1);
    network.raft(1).proposeConfigChange({ type: 'changeVoters', add: [4, 5], remove: [2, 3] });
    // Old voters 2 and 3 are unreachable: the new majority (1, 4, 5) alone cannot commit.
    network.isolate(2);
    network.isolate(3);
    network.stabilize();
    network.tickAll(3);
    expect(network.raft(1).config.outgoingVoters).toEqual([1, 2, 3]);
    expect(network.raft(1).status().commit).toBe(2);
    network.heal();
    network.tickAll(3);
    expect(network.raft(1).config).toEqual({ voters: [1, 4, 5], learners: [], outgoingVoters: [] });
  });

  it('only one configuration change may be pending at a time', () => {
    const network = new Network({ voters: [1, 2, 3], spare: [4, 5] });
    network.elect(1);
    network.isolate(1);
    network.raft(1).proposeConfigChange({ type: 'addLearner', node: 4 });
    expect(() => network.raft(1).proposeConfigChange({ type: 'addLearner', node: 5 })).toThrow(
      ConfigChangeInProgressError,
    );
    try {
      network.raft(1).proposeConfigChange({ type: 'addLearner', node: 5 });
    } catch (error) {
      expect(isMeshError(error, 'CONFIG_CHANGE_PENDING')).toBe(true);
    }
    network.heal();
    network.tickAll(2);
    network.raft(1).proposeConfigChange({ type: 'addLearner', node: 5 });
    network.stabilize();
    expect(network.raft(1).config.learners).toEqual([4, 5]);
  });

  it('a removed leader steps down once its removal commits, and the rest elect a new leader', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.raft(1).proposeConfigChange({ type: 'changeVoters', add: [], remove: [1] });
    network.stabilize();
    network.tickAll(2);
    expect(network.raft(1).role).not.toBe('leader');
    expect(network.raft(2).config.voters).toEqual([2, 3]);
    network.tickAll(40);
    const leaders = network.leaders();
    expect(leaders).toHaveLength(1);
    expect([2, 3]).toContain(leaders[0]);
    network.propose(leaders[0]!, 'without 1');
    expect(network.node(2).applied).toContain('without 1');
  });

  it('a configuration rolls back when the entry that introduced it is overwritten', () => {
    const network = new Network({ voters: [1, 2, 3], spare: [4] });
    network.elect(1);
    network.isolate(1);
    network.raft(1).proposeConfigChange({ type: 'addLearner', node: 4 });
    network.stabilize();
    expect(network.raft(1).config.learners).toEqual([4]);
    while (network.raft(2).role !== 'leader') network.elect(2);
    network.propose(2, 'new leader');
    network.heal();
    network.tickAll(2);
    expect(network.raft(1).role).toBe('follower');
    expect(network.raft(1).config.learners).toEqual([]);
    expect(network.node(1).applied).toEqual(['new leader']);
  });

  it('a leader that crashed after appending its own removal may still campaign to finish it', () => {
    // Voters {1, 2}; node 1 removes itself. The joint configuration commits, node 1 appends
    // the leave-joint entry, and then crashes before anyone receives it. Node 2 (still joint)
    // needs node 1's vote, which node 1 refuses because its log is longer; so node 1, a voter
    // of its committed configuration, must be able to run and finish the change itself.
    const network = new Network({ voters: [1, 2] });
    network.elect(1);
    const jointIndex = network.raft(1).proposeConfigChange({ type: 'changeVoters', add: [], remove: [1] });
    network.filter = (message) =>
      !(message.type === 'append' && message.entries.some((entry) => entry.index > jointIndex));
    network.stabilize();
    expect(network.raft(1).config).toEqual({ voters: [2], learners: [], outgoingVoters: [] });
    expect(network.raft(2).config.outgoingVoters).toEqual([1, 2]);
    network.restart(1);
    network.filter = () => true;
    network.tickAll(60);
    expect(network.raft(2).config).toEqual({ voters: [2], learners: [], outgoingVoters: [] });
    expect(network.leaders()).toEqual([2]);
    network.propose(2, 'alone');
    expect(network.node(2).applied).toContain('alone');
  });
});
