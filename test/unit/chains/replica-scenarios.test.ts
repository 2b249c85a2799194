import { afterEach, describe, expect, it } from 'vitest';
import { type AcksPolicy, type AppendResult, learnerCaughtUp } from '../../../src/chains/index.js';
import { isMeshError, type NodeId } from '../../../src/lib/index.js';
import { acknowledged, settle } from '../../support/chains/append-outcomes.js';
import { ChainCluster, type ChainClusterOptions } from '../../support/chains/chain-cluster.js';
import type { MemoryChainLog } from '../../support/chains/memory-chain-log.js';

let cluster: ChainCluster | undefined;

function start(acks: AcksPolicy, options: Partial<ChainClusterOptions> = {}): ChainCluster {
  cluster = new ChainCluster({ replicas: [1, 2, 3], acks, seed: 1, ...options });
  return cluster;
}

afterEach(() => {
  cluster?.close();
  cluster = undefined;
});

function failedWith(outcome: AppendResult | Error, code: string): void {
  expect(outcome).toBeInstanceOf(Error);
  expect(isMeshError(outcome, code), String(outcome)).toBe(true);
}

async function leading(chain: ChainCluster, id: NodeId): Promise<void> {
  await chain.runUntil(() => chain.leaderId() === id, 3000, `node ${id} leads`);
}

/** How `leader`'s status shows `member` (its match offset, lag, learner or not). */
function memberSeenBy(chain: ChainCluster, leader: NodeId, member: NodeId) {
  return chain
    .replica(leader)
    .status()
    .replicas.find((entry) => entry.node === member);
}

describe('ChainReplica: appends under each acks policy', () => {
  it('quorum: epoch 1 is claimed, its marker written, appends acknowledged once a majority holds them', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    const result = acknowledged(await settle(chain, chain.append(1, ['a', 'b'])));
    expect(result).toEqual({ firstOffset: 1, lastOffset: 2, epoch: 1 });
    const entries = await chain.replica(1).read(0, 100, 1 << 20);
    expect(entries.map((entry) => entry.offset)).toEqual([1, 2]);
    await chain.run(300);
    for (const id of [2, 3]) {
      expect(chain.logOf(id)).toEqual(['1/epoch-start/', '1/data/a', '1/data/b']);
      expect(chain.replica(id).commitOffset).toBe(3);
    }
    expect(chain.violations).toEqual([]);
  });

  it('quorum: one follower down still acknowledges; both followers cut off does not', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    chain.detach(2);
    chain.detach(3);
    chain.crash(3);
    acknowledged(await settle(chain, chain.append(1, ['with-2'])));
    chain.cutLink(1, 2);
    const stalled = chain.append(1, ['alone']);
    let settled = false;
    void stalled.finally(() => {
      settled = true;
    });
    await chain.run(500);
    expect(settled).toBe(false);
    expect(chain.replica(1).commitOffset).toBe(2);
  });

  it('one: acknowledged as soon as the leader holds it durably, with every follower cut off', async () => {
    const chain = start('one');
    await leading(chain, 1);
    await chain.runUntil(
      () => chain.logOf(2).length === 1 && chain.logOf(3).length === 1,
      100,
      'markers replicated',
    );
    chain.cutLink(1, 2);
    chain.cutLink(1, 3);
    const result = acknowledged(await settle(chain, chain.append(1, ['solo']), 50));
    expect(result.lastOffset).toBe(1);
    expect(chain.logOf(2)).toEqual(['1/epoch-start/']);
  });

  it('all: waits for every replica (a crashed one holds it back) and learners never count', async () => {
    const chain = start('all', { learners: [4] });
    await leading(chain, 1);
    chain.detach(3);
    chain.crash(3);
    chain.crash(4);
    const waiting = chain.append(1, ['everyone']);
    let settled = false;
    void waiting.finally(() => {
      settled = true;
    });
    await chain.run(500);
    expect(settled).toBe(false);
    chain.restart(3);
    acknowledged(await settle(chain, waiting));
    expect(chain.logOf(3)).toEqual(['1/epoch-start/', '1/data/everyone']);
    expect(chain.logOf(4)).toEqual([]);
  });
});

describe('ChainReplica: leader failure and epochs', () => {
  it('a crashed leader is replaced in a new epoch and no acknowledged append is lost', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    for (let index = 0; index < 20; index++)
      acknowledged(await settle(chain, chain.append(1, [`r${index}`])));
    const inFlight = chain.append(1, ['maybe']);
    chain.crash(1);
    await chain.runUntil(() => chain.leader() !== undefined, 3000, 'a new leader');
    const newLeader = chain.leaderId() as NodeId;
    expect(newLeader).not.toBe(1);
    expect(chain.definition.epoch).toBe(2);
    acknowledged(await settle(chain, chain.append(newLeader, ['after'])));
    const log = chain.logOf(newLeader);
    for (let index = 0; index < 20; index++) expect(log).toContain(`1/data/r${index}`);
    expect(log[log.length - 1]).toBe('2/data/after');
    expect(log.filter((record) => record === '2/epoch-start/')).toHaveLength(1);
    chain.restart(1);
    await chain.runUntil(() => chain.logOf(1).length === log.length, 3000, 'the old leader catches up');
    expect(chain.logOf(1)).toEqual(log);
    // The crashed append never reached a follower; it is not acknowledged and, here, not kept.
    void inFlight;
    expect(chain.violations).toEqual([]);
  });

  it('a restarted leader never leads its epoch again: it asks for the next one', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    chain.crash(1, 0);
    chain.restart(1);
    expect(chain.replica(1).role).toBe('follower');
    expect(chain.suspicions).toContainEqual({ by: 1, leader: 1, epoch: 1 });
    await chain.runUntil(() => chain.leader() !== undefined, 3000, 'a leader of epoch 2');
    expect(chain.definition.epoch).toBe(2);
    expect(chain.definition.leader).not.toBe(1);
    expect(chain.replica(1).role).toBe('follower');
  });

  it('a leader restarted without its unsynced records of its epoch writes nothing more in that epoch', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    acknowledged(await settle(chain, chain.append(1, ['base'])));
    chain.detach(2);
    chain.detach(3);
    chain.cutLink(1, 3);
    void chain.append(1, ['unsynced']);
    // Node 2 holds the record at offset 2 in epoch 1; node 1 had not synced it yet.
    await chain.runUntil(() => chain.logOf(2).includes('1/data/unsynced'), 10, 'node 2 holds the record');
    chain.crash(1, 0);
    chain.restoreLink(1, 3);
    chain.cutLink(1, 2);
    chain.cutLink(2, 1);
    chain.restart(1);
    await chain.run(50);
    // Claiming epoch 1 again over {1, 3} would put a different record of epoch 1 at offset 2,
    // which log matching could never tell apart from node 2's.
    expect(chain.logOf(1)).toEqual(['1/epoch-start/', '1/data/base']);
    expect(chain.logOf(3)).toEqual(['1/epoch-start/', '1/data/base']);
    chain.proposeEpoch(1, 1);
    chain.restoreLink(1, 2);
    chain.restoreLink(2, 1);
    await leading(chain, 1);
    acknowledged(await settle(chain, chain.append(1, ['epoch-2'])));
    await chain.runUntil(
      () => chain.replica(2).commitOffset === chain.logOf(1).length,
      1000,
      'node 2 catches up',
    );
    expect(chain.logOf(2)).toEqual(chain.logOf(1));
    expect(chain.logOf(3)).toEqual(chain.logOf(1));
    expect(chain.violations).toEqual([]);
  });

  it('records of an older epoch commit only with a record of the leader’s own epoch (Raft’s figure 8)', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    acknowledged(await settle(chain, chain.append(1, ['base'])));
    const base = chain.logOf(1).length;
    // Epoch 1: node 1 writes twelve large records nobody else gets.
    chain.automaticFailover = false;
    chain.cutLink(1, 2);
    chain.cutLink(1, 3);
    const big = 'x'.repeat(100 * 1024);
    void chain.append(
      1,
      Array.from({ length: 12 }, (_, index) => `old${index}:${big}`),
    );
    await chain.run(10);
    // Epoch 2: node 3 claims over {2, 3} and writes its marker, which only it gets.
    chain.dropMessage = (from, _to, message) => from === 3 && message.type === 'append';
    chain.proposeEpoch(1, 3);
    await chain.run(20);
    expect(chain.logOf(3)[base]).toBe('2/epoch-start/');
    // Epoch 3: node 1 claims over {1, 2} (its log is the longest of epoch 1) and sends the old
    // records to node 2; the message carrying its own marker is lost, so node 2 acknowledges
    // only records of epoch 1.
    chain.cutLink(3, 1);
    chain.cutLink(1, 3);
    chain.cutLink(3, 2);
    chain.cutLink(2, 3);
    chain.restoreLink(1, 2);
    chain.dropMessage = (from, _to, message) =>
      from === 1 && message.type === 'append' && message.entries.some((entry) => entry.epoch === 3);
    chain.proposeEpoch(2, 1);
    await chain.run(500);
    expect(chain.logOf(2).length).toBeGreaterThan(base + 1);
    expect(chain.logOf(2)).not.toContain('3/epoch-start/');
    // The old records sit on a majority (1 and 2), yet are not committed.
    expect(chain.replica(1).commitOffset).toBe(base);
    // Epoch 4: node 1 dies; node 3, whose last epoch (2) is the highest, leads over {2, 3}
    // and cuts the old records off node 2: committing them would have lost them.
    chain.crash(1);
    chain.dropMessage = undefined;
    chain.heal();
    chain.proposeEpoch(3, 3);
    await leading(chain, 3);
    acknowledged(await settle(chain, chain.append(3, ['epoch-4'])));
    await chain.runUntil(
      () => chain.replica(2).commitOffset === chain.logOf(3).length,
      1000,
      'node 2 catches up',
    );
    expect(chain.logOf(2)).toEqual(chain.logOf(3));
    expect(chain.logOf(2).some((record) => record.includes('old0'))).toBe(false);
    expect(chain.violations).toEqual([]);
  });

  it('a partitioned old leader cannot have quorum appends acknowledged once the new epoch is claimed', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    acknowledged(await settle(chain, chain.append(1, ['before'])));
    // 1 still reaches 2 but not 3, and cannot see the control plane's new epoch: only the
    // promises fence it.
    chain.detach(1);
    chain.cutLink(1, 3);
    chain.cutLink(3, 1);
    chain.proposeEpoch(1, 3);
    await leading(chain, 3);
    const old = chain.append(1, ['stale']);
    const fresh = chain.append(3, ['fresh']);
    failedWith(await settle(chain, old), 'CHAIN_APPEND_OUTCOME_UNKNOWN');
    acknowledged(await settle(chain, fresh));
    expect(chain.replica(1).role).toBe('follower');
    expect(chain.acknowledged.filter((append) => append.node === 1).map((append) => append.payloads)).toEqual(
      [['before']],
    );
    chain.heal();
    await chain.runUntil(() => chain.logOf(1).length === chain.logOf(3).length, 3000, 'node 1 catches up');
    expect(chain.logOf(1)).toEqual(chain.logOf(3));
    expect(chain.logOf(1)).not.toContain('1/data/stale');
    expect(chain.violations).toEqual([]);
  });

  it('a divergent suffix is cut off and replaced by the new epoch’s records', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    acknowledged(await settle(chain, chain.append(1, ['shared'])));
    chain.partition([1]);
    const lost = chain.append(1, ['only-on-1-a', 'only-on-1-b']);
    await chain.runUntil(() => chain.leader() !== undefined && chain.leaderId() !== 1, 3000, 'a new leader');
    const newLeader = chain.leaderId() as NodeId;
    acknowledged(await settle(chain, chain.append(newLeader, ['new-a', 'new-b', 'new-c'])));
    expect(chain.logOf(1)).toEqual([
      '1/epoch-start/',
      '1/data/shared',
      '1/data/only-on-1-a',
      '1/data/only-on-1-b',
    ]);
    chain.heal();
    failedWith(await settle(chain, lost), 'CHAIN_APPEND_OUTCOME_UNKNOWN');
    await chain.runUntil(
      () => chain.replica(1).commitOffset === chain.replica(newLeader).commitOffset,
      3000,
      'node 1 catches up',
    );
    expect(chain.logOf(1)).toEqual([
      '1/epoch-start/',
      '1/data/shared',
      '2/epoch-start/',
      '2/data/new-a',
      '2/data/new-b',
      '2/data/new-c',
    ]);
    expect(chain.violations).toEqual([]);
  });

  it('a new leader fetches the records only another replica holds before writing its marker', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    // Node 3 misses these; 1 and 2 hold them, so they are acknowledged.
    chain.cutLink(1, 3);
    for (let index = 0; index < 5; index++) acknowledged(await settle(chain, chain.append(1, [`k${index}`])));
    chain.detach(2);
    chain.detach(3);
    chain.crash(1);
    chain.proposeEpoch(1, 3);
    chain.heal();
    await leading(chain, 3);
    const log = chain.logOf(3);
    expect(log.slice(0, 6)).toEqual([
      '1/epoch-start/',
      '1/data/k0',
      '1/data/k1',
      '1/data/k2',
      '1/data/k3',
      '1/data/k4',
    ]);
    expect(log[6]).toBe('2/epoch-start/');
  });
});

describe('ChainReplica: a failing log', () => {
  it('a leader whose sync fails stops leading, fails its waiting appends as outcome unknown and asks for the next epoch', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    (chain.node(1).log as MemoryChainLog).failSyncs(new Error('fdatasync: EIO'));
    const waiting = chain.append(1, ['doomed']);
    failedWith(await settle(chain, waiting), 'CHAIN_APPEND_OUTCOME_UNKNOWN');
    expect(chain.replica(1).role).toBe('follower');
    expect(String(chain.replica(1).logError)).toContain('EIO');
    expect(chain.suspicions).toContainEqual({ by: 1, leader: 1, epoch: 1 });
    await chain.runUntil(() => chain.leader() !== undefined, 3000, 'another leader');
    expect(chain.leaderId()).not.toBe(1);
  });
});

describe('ChainReplica: learners and catch-up', () => {
  it('a learner that was down catches up from the leader’s log with byte-bounded messages', async () => {
    const chain = start('quorum', { learners: [4] });
    await leading(chain, 1);
    chain.detach(4);
    chain.crash(4);
    const big = 'x'.repeat(100 * 1024);
    for (let index = 0; index < 100; index++)
      acknowledged(await settle(chain, chain.append(1, [`${index}:${big}`])));
    chain.restart(4);
    const leaderLog = chain.logOf(1);
    const learner = () => memberSeenBy(chain, 1, 4);
    await chain.runUntil(() => learner()?.matchOffset === leaderLog.length, 5000, 'the learner catches up');
    expect(chain.logOf(4)).toEqual(leaderLog);
    expect(learner()).toMatchObject({ learner: true, lag: 0 });
    await chain.runUntil(
      () => chain.replica(4).commitOffset === leaderLog.length,
      500,
      'the learner learns the commit',
    );
  });
});

describe('ChainReplica: the leader’s epoch start in its status', () => {
  it('right after a leader change the commit offset lags records committed in the old epoch; the epoch start covers them', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    await chain.runUntil(
      () => [1, 2, 3].every((id) => chain.replica(id).commitOffset === 1),
      1000,
      'every replica knows the marker committed',
    );
    expect(chain.replica(1).status().epochStartOffset).toBe(0);
    // The followers get the records but never hear they committed: later appends from node 1 are lost.
    chain.automaticFailover = false;
    chain.dropMessage = (from, _to, message) =>
      from === 1 && message.type === 'append' && message.commitOffset > 1;
    const result = acknowledged(await settle(chain, chain.append(1, ['a', 'b', 'c'])));
    expect(result.lastOffset).toBe(3);
    chain.crash(1);
    // Node 2 claims epoch 2; its marker reaches no one, so nothing of epoch 2 commits yet.
    chain.dropMessage = (from, _to, message) => from === 2 && message.type === 'append';
    chain.proposeEpoch(1, 2);
    await leading(chain, 2);
    const status = chain.replica(2).status();
    expect(status.epochStartOffset).toBe(4);
    // Records 1-3 were acknowledged, yet the new leader's commit offset does not cover them:
    // a learner counted caught up at it would lack them. The epoch start does cover them.
    expect(status.commitOffset).toBe(1);
    expect(learnerCaughtUp(status, status.commitOffset)).toBe(false);
    expect(learnerCaughtUp(status, result.lastOffset + 1)).toBe(true);
    // A follower's status names no epoch start.
    expect(chain.replica(3).status().epochStartOffset).toBeUndefined();
    chain.dropMessage = undefined;
    await chain.runUntil(() => chain.replica(2).commitOffset === 5, 1000, 'the marker commits');
    expect(chain.violations).toEqual([]);
  });
});

describe('ChainReplica: retention and replicas that lag past it', () => {
  /** Every replica at the leader's end and commit offset, holding the leader's records from its own start. */
  async function caughtUp(chain: ChainCluster, leader: NodeId, ids: readonly NodeId[]): Promise<void> {
    const end = () => chain.node(leader).log.endOffset;
    await chain.runUntil(
      () =>
        ids.every((id) => chain.node(id).log.endOffset === end() && chain.replica(id).commitOffset === end()),
      5000,
      'every replica catches up',
    );
    for (const id of ids) {
      const from = Math.max(chain.node(id).log.startOffset, chain.node(leader).log.startOffset);
      expect(chain.logOf(id, end(), from)).toEqual(chain.logOf(leader, end(), from));
    }
  }

  /**
   * Node 3, crashed after `before`, misses the 100 appends node 1 leads next: retention (20
   * records kept) moves the others' log start past 3's end.
   */
  async function crashedPastRetention(): Promise<ChainCluster> {
    const chain = start('quorum', { retention: { maxRecords: 20 } });
    await leading(chain, 1);
    acknowledged(await settle(chain, chain.append(1, ['before'])));
    await chain.run(100);
    chain.crash(3);
    for (let index = 0; index < 100; index++)
      acknowledged(await settle(chain, chain.append(1, [`r${index}`])));
    await chain.run(200);
    return chain;
  }

  it('a follower whose log ends before the leader’s kept records starts its log at the leader’s start and catches up', async () => {
    const chain = await crashedPastRetention();
    const leaderStart = chain.node(1).log.startOffset;
    expect(leaderStart).toBeGreaterThan(chain.node(3).disk.entries.length);
    chain.restart(3);
    await caughtUp(chain, 1, [2, 3]);
    // It joined at the leader's start (or later, once its own retention ran): nothing below it.
    expect(chain.node(3).log.startOffset).toBeGreaterThanOrEqual(leaderStart);
    expect(chain.logOf(3, undefined, chain.node(3).log.startOffset)).not.toContain('1/data/before');
    acknowledged(await settle(chain, chain.append(1, ['after'])));
    await caughtUp(chain, 1, [2, 3]);
    expect(chain.violations).toEqual([]);
  });

  it('an old leader with a divergent suffix below the new leader’s start drops it and catches up', async () => {
    const chain = start('quorum', { retention: { maxRecords: 20 } });
    await leading(chain, 1);
    acknowledged(await settle(chain, chain.append(1, ['a'])));
    await chain.run(100);
    // Cut off, the old leader writes records no majority ever holds.
    chain.partition([1]);
    const lost = chain.append(1, ['divergent-1', 'divergent-2']);
    await chain.runUntil(() => chain.leader() !== undefined && chain.leaderId() !== 1, 3000, 'a new leader');
    const leader = chain.leaderId() as NodeId;
    for (let index = 0; index < 100; index++)
      acknowledged(await settle(chain, chain.append(leader, [`r${index}`])));
    await chain.run(200);
    expect(chain.node(leader).log.startOffset).toBeGreaterThan(chain.node(1).log.endOffset);
    chain.heal();
    await caughtUp(
      chain,
      leader,
      [1, 2, 3].filter((id) => id !== leader),
    );
    expect(chain.logOf(1, undefined, chain.node(1).log.startOffset).join()).not.toContain('divergent');
    failedWith(await settle(chain, lost), 'CHAIN_APPEND_OUTCOME_UNKNOWN');
    expect(chain.violations).toEqual([]);
  });

  it('a new leader whose log ends before the other replicas’ kept records starts it at their start in its claim', async () => {
    const chain = await crashedPastRetention();
    const sourceStart = chain.node(2).log.startOffset;
    expect(sourceStart).toBeGreaterThan(chain.node(3).disk.entries.length);
    const end = chain.node(1).log.endOffset;
    // The leader goes; the lagging replica is named leader and claims with 2's answer.
    chain.automaticFailover = false;
    chain.crash(1);
    chain.restart(3);
    expect(chain.proposeEpoch(1, 3)).toBe(true);
    await leading(chain, 3);
    expect(chain.node(3).log.startOffset).toBeGreaterThanOrEqual(sourceStart);
    expect(chain.logOf(3, end, chain.node(3).log.startOffset)).toEqual(
      chain.logOf(2, end, chain.node(3).log.startOffset),
    );
    acknowledged(await settle(chain, chain.append(3, ['after'])));
    chain.restart(1);
    await caughtUp(chain, 3, [1, 2]);
    expect(chain.violations).toEqual([]);
  });

  it('a learner added after retention dropped the chain’s first records joins at the leader’s start', async () => {
    const chain = start('quorum', { retention: { maxRecords: 20 }, spares: [4] });
    await leading(chain, 1);
    for (let index = 0; index < 60; index++)
      acknowledged(await settle(chain, chain.append(1, [`r${index}`])));
    await chain.run(200);
    expect(chain.node(1).log.startOffset).toBeGreaterThan(0);
    chain.addLearner(4);
    const learner = () => memberSeenBy(chain, 1, 4);
    await chain.runUntil(
      () => learner()?.matchOffset === chain.node(1).log.endOffset,
      5000,
      'the learner catches up',
    );
    expect(chain.node(4).log.startOffset).toBeGreaterThan(0);
    expect(chain.violations).toEqual([]);
  });
});

describe('ChainReplica: the epoch lease', () => {
  it('a leader resumed after a pause refuses appends until it hears from a majority again', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    acknowledged(await settle(chain, chain.append(1, ['before'])));
    chain.pause(1);
    await chain.run(900);
    chain.resume(1);
    failedWith(await chain.append(1, ['too-early']), 'CHAIN_NOT_LEADER');
    await chain.run(20);
    acknowledged(await settle(chain, chain.append(1, ['after-majority'])));
  });

  it('answers held up while the leader was stopped do not renew its lease: it counts from when it asked', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    chain.automaticFailover = false;
    // Slow links: whenever the leader stops, answers to its last heartbeats are on the way.
    chain.links = { minDelayMs: 50, maxDelayMs: 50, dropProbability: 0, duplicateProbability: 0 };
    acknowledged(await settle(chain, chain.append(1, ['before'])));
    // Stopped just after its next heartbeats went out.
    const sentBefore = chain.messagesSent;
    await chain.runUntil(() => chain.messagesSent >= sentBefore + 2, 200, 'heartbeats');
    chain.pause(1);
    await chain.runUntil(() => chain.node(1).held.length > 0, 900, 'answers held for the stopped leader');
    await chain.run(900);
    chain.resume(1);
    failedWith(await settle(chain, chain.append(1, ['too-early'])), 'CHAIN_NOT_LEADER');
    // One round trip (100 ms) after the resumed leader's first heartbeats it holds the lease again.
    await chain.run(110);
    acknowledged(await settle(chain, chain.append(1, ['after-majority'])));
  });

  it('a leader paused past a new epoch refuses appends on resume and steps down on the first answer', async () => {
    const chain = start('quorum');
    await leading(chain, 1);
    chain.detach(1);
    chain.pause(1);
    await chain.runUntil(
      () => chain.definition.epoch === 2 && chain.leader() !== undefined,
      5000,
      'a new epoch',
    );
    chain.resume(1);
    failedWith(await chain.append(1, ['stale']), 'CHAIN_NOT_LEADER');
    await chain.run(200);
    expect(chain.replica(1).role).toBe('follower');
    expect(chain.replica(1).status().epoch).toBe(2);
    expect(chain.acknowledged).toEqual([]);
  });
});
