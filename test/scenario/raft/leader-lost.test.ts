import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ELECTION_TICKS,
  DEFAULT_HEARTBEAT_TICKS,
  EARLY_CAMPAIGN_RANK_SPACING_TICKS,
  EARLY_CAMPAIGN_RETRY_TICKS,
  type Message,
  type NodeId,
} from '../../../src/raft/index.js';
import { Network } from './network.js';

/** Electing node 1 with pre-vote and check-quorum on, as the production host runs. */
function clusterLedBy1(voters: readonly NodeId[] = [1, 2, 3]): Network {
  const network = new Network({ voters, preVote: true, checkQuorum: true });
  network.elect(1);
  expect(network.raft(1).role).toBe('leader');
  expect(network.raft(1).term).toBe(2);
  return network;
}

/** Ticks `id` alone (nothing is delivered) until it leaves the follower role; the tick count. */
function ticksUntilCampaign(network: Network, id: NodeId): number {
  for (let ticks = 1; ticks <= 100; ticks++) {
    network.tick(id);
    if (network.raft(id).role !== 'follower') return ticks;
  }
  throw new Error(`node ${id} never campaigned`);
}

describe('a hint that the leader is gone (its connection closed)', () => {
  it('the surviving follower of lowest id wins an election after one tick, not an election timeout', () => {
    const network = clusterLedBy1();
    // Leader 1 crashes: nothing reaches it or leaves it any more.
    network.isolate(1);
    network.raft(2).reportLeaderLost(1);
    network.raft(3).reportLeaderLost(1);
    network.tick(2);
    network.tick(3);
    network.stabilize();
    // The normal election timeout is at least 10 ticks; one was enough.
    expect(network.raft(2).role).toBe('leader');
    expect(network.raft(2).term).toBe(3);
    expect(network.raft(3).leaderId).toBe(2);
    expect(network.raft(3).term).toBe(3);
    // Node 3's own early campaign was called off by hearing from the new leader.
    network.tick(3, 2 * EARLY_CAMPAIGN_RANK_SPACING_TICKS);
    network.stabilize();
    expect(network.raft(3).role).toBe('follower');
    expect(network.raft(2).term).toBe(3);
  });

  it('survivors campaign in id order, spaced so they do not split the vote', () => {
    const network = clusterLedBy1([1, 2, 3, 4, 5]);
    for (const id of [2, 3, 4, 5]) network.raft(id).reportLeaderLost(1);
    const delays = [2, 3, 4, 5].map((id) => ticksUntilCampaign(network, id));
    const spacing = EARLY_CAMPAIGN_RANK_SPACING_TICKS;
    expect(delays).toEqual([1, 1 + spacing, 1 + 2 * spacing, 1 + 3 * spacing]);
    expect(network.raft(2).role).toBe('preCandidate');
  });

  it('survivors that split the vote retry within the short retry timeout, not a whole election timeout', () => {
    const network = new Network({
      voters: [1, 2, 3],
      preVote: true,
      checkQuorum: true,
      electionTicks: DEFAULT_ELECTION_TICKS,
      heartbeatTicks: DEFAULT_HEARTBEAT_TICKS,
    });
    network.elect(1);
    network.isolate(1);
    network.raft(2).reportLeaderLost(1);
    network.raft(3).reportLeaderLost(1);
    // The hints arrive late enough apart that both survivors campaign before hearing each other.
    network.tick(2);
    network.tick(3, 1 + EARLY_CAMPAIGN_RANK_SPACING_TICKS);
    network.stabilize();
    expect([network.raft(2).role, network.raft(3).role]).toEqual(['candidate', 'candidate']);
    expect(network.leaders()).toEqual([1]);
    let ticks = 0;
    while (!network.leaders().some((id) => id !== 1) && ticks < 2 * DEFAULT_ELECTION_TICKS) {
      network.tick(2);
      network.tick(3);
      network.stabilize();
      ticks++;
    }
    expect(ticks).toBeLessThan(2 * EARLY_CAMPAIGN_RETRY_TICKS);
    expect(EARLY_CAMPAIGN_RETRY_TICKS * 2).toBeLessThanOrEqual(DEFAULT_ELECTION_TICKS);
  });

  it('the follower forgets the leader at once and reports it in the soft state', () => {
    const network = clusterLedBy1();
    network.raft(2).reportLeaderLost(1);
    expect(network.raft(2).leaderId).toBe(0);
    const ready = network.raft(2).ready();
    expect(ready.softState).toEqual({ leaderId: 0, role: 'follower' });
    network.raft(2).advance();
  });

  it('a false hint cannot disturb a live leader: the pre-vote is ignored by the leader and its follower', () => {
    const network = clusterLedBy1();
    const delivered: Message[] = [];
    network.filter = (message) => {
      delivered.push(message);
      return true;
    };
    network.raft(2).reportLeaderLost(1);
    network.tick(2);
    network.stabilize();
    expect(network.raft(2).role).toBe('preCandidate');
    const preVotes = delivered.filter((message) => message.type === 'preVote');
    expect(preVotes.map((message) => message.to).sort()).toEqual([1, 3]);
    // Both heard from leader 1 within the election timeout: neither grants.
    expect(delivered.filter((message) => message.type === 'preVoteResponse' && message.granted)).toEqual([]);
    expect(network.raft(1).role).toBe('leader');
    // The leader's next heartbeat brings node 2 back; nobody's term moved.
    network.tickAll(1);
    expect(network.raft(2).role).toBe('follower');
    expect(network.raft(2).leaderId).toBe(1);
    network.tickAll(30);
    expect(network.leaders()).toEqual([1]);
    for (const id of [1, 2, 3]) expect(network.raft(id).term).toBe(2);
  });

  it('a heartbeat from the same leader after a false hint restores it and calls the campaign off', () => {
    const network = clusterLedBy1();
    network.raft(2).reportLeaderLost(1);
    network.tick(1);
    network.stabilize();
    expect(network.raft(2).leaderId).toBe(1);
    // The election timer restarted with the heartbeat: no campaign before a full timeout.
    network.tick(2, 9);
    expect(network.raft(2).role).toBe('follower');
    expect(network.raft(2).leaderId).toBe(1);
  });

  it('a hint about a node that is not this follower’s leader changes nothing', () => {
    const network = clusterLedBy1();
    network.raft(2).reportLeaderLost(3);
    network.raft(1).reportLeaderLost(2);
    expect(network.raft(2).leaderId).toBe(1);
    expect(network.raft(2).hasReady()).toBe(false);
    expect(network.raft(1).role).toBe('leader');
    expect(network.raft(1).hasReady()).toBe(false);
    network.tick(2, 9);
    expect(network.raft(2).role).toBe('follower');
  });

  it('without pre-vote the hint is ignored, since a real campaign would depose a live leader', () => {
    const network = new Network({ voters: [1, 2, 3], checkQuorum: true });
    network.elect(1);
    network.raft(2).reportLeaderLost(1);
    expect(network.raft(2).leaderId).toBe(1);
    network.tick(2, 9);
    expect(network.raft(2).role).toBe('follower');
  });
});
