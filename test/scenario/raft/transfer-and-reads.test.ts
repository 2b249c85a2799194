import { describe, expect, it } from 'vitest';
import { isMeshError, SeededRandom, ValidationError } from '../../../src/lib/index.js';
import {
  LeadershipTransferInProgressError,
  MAX_PENDING_READS,
  MemoryRaftStorage,
  Raft,
} from '../../../src/raft/index.js';
import { bytes, Network } from './network.js';

describe('leadership transfer (thesis section 3.10)', () => {
  it('hands leadership to an up-to-date follower', () => {
    const network = new Network({ voters: [1, 2, 3], checkQuorum: true, preVote: true });
    network.elect(1);
    network.propose(1, 'a');
    network.raft(1).transferLeadership(2);
    network.stabilize();
    expect(network.raft(2).role).toBe('leader');
    expect(network.raft(1).role).toBe('follower');
    expect(network.raft(1).leaderId).toBe(2);
    network.propose(2, 'b');
    expect(network.node(1).applied).toEqual(['a', 'b']);
  });

  it('brings a lagging target up to date first', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.cut(1, 3);
    network.propose(1, 'missed');
    network.heal();
    network.raft(1).transferLeadership(3);
    network.stabilize();
    expect(network.raft(3).role).toBe('leader');
    expect(network.node(3).applied).toContain('missed');
  });

  it('refuses proposals during a transfer and gives up after an election timeout', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.isolate(3);
    network.raft(1).transferLeadership(3);
    network.stabilize();
    expect(() => network.raft(1).propose(bytes('x'))).toThrow(LeadershipTransferInProgressError);
    try {
      network.raft(1).propose(bytes('x'));
    } catch (error) {
      expect(isMeshError(error, 'TRANSFER_IN_PROGRESS')).toBe(true);
    }
    for (let tick = 0; tick < 10; tick++) {
      network.tick(1);
      network.stabilize();
    }
    expect(network.raft(1).role).toBe('leader');
    expect(network.raft(1).status().leadTransferee).toBe(0);
    network.propose(1, 'accepted again');
    expect(network.node(2).applied).toEqual(['accepted again']);
  });
});

describe('linearizable reads (thesis section 6.4)', () => {
  it('ReadIndex: the leader confirms leadership with a heartbeat round, then releases the read', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.propose(1, 'a');
    network.raft(1).readIndex('read-1');
    network.collect();
    // Not released before a quorum answered the heartbeat.
    expect(network.node(1).readStates).toEqual([]);
    expect(network.queue.some((message) => message.type === 'heartbeat' && message.context !== '')).toBe(
      true,
    );
    network.stabilize();
    expect(network.node(1).readStates).toEqual([
      { requestId: 'read-1', index: network.raft(1).status().commit },
    ]);
  });

  it('a follower forwards the read to the leader and gets the leader commit index', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.propose(1, 'a');
    network.raft(3).readIndex('from-3');
    network.stabilize();
    expect(network.node(3).readStates).toEqual([
      { requestId: 'from-3', index: network.raft(1).status().commit },
    ]);
  });

  it('a new leader holds reads until it has committed an entry of its term', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.filter = (message) => message.type !== 'appendResponse';
    network.elect(1);
    expect(network.raft(1).role).toBe('leader');
    network.raft(1).readIndex('early');
    network.tickAll(2);
    expect(network.node(1).readStates).toEqual([]);
    network.filter = () => true;
    network.tickAll(2);
    expect(network.node(1).readStates.map((state) => state.requestId)).toEqual(['early']);
    expect(network.node(1).readStates[0]!.index).toBeGreaterThanOrEqual(2);
  });

  it('a deposed leader never answers: its pending reads are dropped when it steps down', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.isolate(1);
    network.raft(1).readIndex('stale');
    network.tickAll(2);
    while (network.raft(2).role !== 'leader') network.elect(2);
    network.propose(2, 'new');
    network.heal();
    network.tickAll(2);
    expect(network.raft(1).role).toBe('follower');
    expect(network.node(1).readStates).toEqual([]);
    expect(network.node(1).droppedReads).toEqual(['stale']);
  });

  it('a follower read is refused when no leader is known', () => {
    const network = new Network({ voters: [1, 2, 3] });
    expect(() => network.raft(2).readIndex('nobody')).toThrow(/no leader/);
  });

  it('lease reads answer at once while a quorum acknowledged a recent heartbeat', () => {
    const network = new Network({
      voters: [1, 2, 3],
      checkQuorum: true,
      leaseRead: { enabled: true, maxClockDriftTicks: 2 },
    });
    network.elect(1);
    network.tickAll(1);
    network.raft(1).readIndex('lease-1');
    const messages = network.collect();
    expect(messages.filter((message) => message.type === 'heartbeat')).toHaveLength(0);
    expect(network.node(1).readStates.map((state) => state.requestId)).toEqual(['lease-1']);
    // Cut off for longer than the lease: the leader falls back to a heartbeat round, which
    // nobody answers, so it does not answer either.
    network.isolate(1);
    for (let tick = 0; tick < 8; tick++) {
      network.tick(1);
      network.stabilize();
    }
    network.raft(1).readIndex('lease-2');
    network.stabilize();
    expect(network.node(1).readStates.map((state) => state.requestId)).toEqual(['lease-1']);
  });

  it('lease reads stop during a leadership transfer (the target may win at once)', () => {
    const network = new Network({
      voters: [1, 2, 3],
      checkQuorum: true,
      leaseRead: { enabled: true, maxClockDriftTicks: 2 },
    });
    network.elect(1);
    network.tickAll(1);
    network.isolate(3);
    network.raft(1).transferLeadership(3);
    network.raft(1).readIndex('during-transfer');
    const messages = network.collect();
    expect(network.node(1).readStates).toEqual([]);
    expect(messages.some((message) => message.type === 'heartbeat' && message.context !== '')).toBe(true);
    // The heartbeat round still confirms leadership the slow way.
    network.stabilize();
    expect(network.node(1).readStates.map((state) => state.requestId)).toEqual(['during-transfer']);
  });

  it('refuses reads past MAX_PENDING_READS with TOO_MANY_PENDING_READS', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.isolate(1);
    for (let read = 0; read < MAX_PENDING_READS; read++) network.raft(1).readIndex(`r${read}`);
    try {
      network.raft(1).readIndex('one too many');
      expect.unreachable();
    } catch (error) {
      expect(isMeshError(error, 'TOO_MANY_PENDING_READS')).toBe(true);
    }
  });

  it('lease reads are validated: they need checkQuorum and a positive lease', () => {
    const make = (electionTicks: number, checkQuorum: boolean) =>
      new Raft({
        id: 1,
        electionTicks,
        heartbeatTicks: 1,
        preVote: false,
        checkQuorum,
        maxInflightMessages: 8,
        maxInflightBytes: 1024,
        maxAppendBytes: 1024,
        leaseRead: { enabled: true, maxClockDriftTicks: 5 },
        random: new SeededRandom(1),
        storage: new MemoryRaftStorage(),
      });
    expect(() => make(10, true)).not.toThrow();
    try {
      make(5, false);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems).toHaveLength(2);
    }
  });
});
