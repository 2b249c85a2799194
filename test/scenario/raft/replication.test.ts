import { describe, expect, it } from 'vitest';
import { type Message, type NodeId, SNAPSHOT_CHUNK_BYTES } from '../../../src/raft/index.js';
import { Network } from './network.js';

function logTerms(network: Network, id: NodeId): number[] {
  const raft = network.raft(id);
  const terms: number[] = [];
  for (let index = 1; index <= raft.log.lastIndex(); index++) terms.push(raft.log.term(index));
  return terms;
}

describe('log replication (Raft paper section 5.3)', () => {
  it('figure 7: the leader brings every divergent follower log in line with its own', () => {
    // Node 1 is the leader of term 8; nodes 2-7 are followers (a)-(f) of figure 7.
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const logs = {
      1: leaderLog,
      2: [1, 1, 1, 4, 4, 5, 5, 6, 6],
      3: [1, 1, 1, 4],
      4: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      5: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      6: [1, 1, 1, 4, 4, 4, 4],
      7: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    };
    const terms = { 1: 7, 2: 7, 3: 7, 4: 7, 5: 7, 6: 7, 7: 7 };
    const network = new Network({ voters: [1, 2, 3, 4, 5, 6, 7], logs, terms });
    network.elect(1);
    expect(network.raft(1).role).toBe('leader');
    expect(network.raft(1).term).toBe(8);
    const expected = [...leaderLog, 8];
    for (const id of [1, 2, 3, 4, 5, 6, 7]) expect(logTerms(network, id)).toEqual(expected);
    network.propose(1, 'after');
    for (const id of [1, 2, 3, 4, 5, 6, 7]) {
      expect(network.raft(id).status().commit).toBe(12);
      expect(network.node(id).applied.at(-1)).toBe('after');
    }
  });

  it('rejections carry term hints so a far-diverged follower is fixed in few round trips', () => {
    const logs = {
      1: [1, 1, 4, 4, 4, 4, 4, 4],
      2: [1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
      3: [1, 1, 4, 4, 4, 4, 4, 4],
    };
    const network = new Network({ voters: [1, 2, 3], logs, terms: { 1: 4, 2: 4, 3: 4 } });
    network.elect(1);
    let rejections = 0;
    network.filter = (message: Message) => {
      if (message.type === 'appendResponse' && !message.success && message.from === 2) rejections++;
      return true;
    };
    network.cut(1, 2);
    network.elect(1);
    network.heal();
    network.propose(1, 'x');
    expect(logTerms(network, 2)).toEqual(logTerms(network, 1));
    expect(rejections).toBeLessThanOrEqual(2);
  });

  function figure8(unsafe: boolean): Network {
    // State (c) of figure 8: S1 led term 2 and put index 2 on S2; S5 led term 3 and wrote its
    // own index 2. S1 is now elected in term 4 by S1, S2 and S3.
    const logs = { 1: [1, 2], 2: [1, 2], 3: [1], 4: [1], 5: [1, 3] };
    const terms = { 1: 3, 2: 3, 3: 3, 4: 3, 5: 3 };
    const network = new Network({
      voters: [1, 2, 3, 4, 5],
      logs,
      terms,
      maxAppendBytes: 1,
      unsafeCommitByCountingOlderTerms: unsafe,
    });
    network.isolate(4);
    network.isolate(5);
    // S1 replicates the term-2 entry to S3 but crashes before its term-4 entry (or any news
    // of a commit) gets anywhere.
    network.rewrite = (message) => {
      if (message.type === 'append') {
        const entries = message.entries.filter((entry) => entry.index <= 2);
        return { ...message, entries, commit: Math.min(message.commit, 1) };
      }
      if (message.type === 'heartbeat') return { ...message, commit: Math.min(message.commit, 1) };
      return message;
    };
    network.elect(1);
    expect(network.raft(1).role).toBe('leader');
    expect(network.raft(1).term).toBe(4);
    expect(logTerms(network, 3)).toEqual([1, 2]);
    return network;
  }

  it('figure 8: a leader never commits an entry of an older term by counting replicas', () => {
    const network = figure8(false);
    // Index 2 is on a majority (S1, S2, S3) but is from term 2: it must stay uncommitted.
    expect(network.raft(1).status().commit).toBeLessThan(2);
    // (d): S1 crashes and S5 wins with S2, S3 and S4; it overwrites index 2 with its term-3
    // entry, which is safe precisely because nobody committed the term-2 one.
    network.rewrite = (message) => message;
    network.heal();
    network.isolate(1);
    while (network.raft(5).role !== 'leader') network.elect(5);
    network.propose(5, 'from S5');
    expect(logTerms(network, 2).slice(0, 2)).toEqual([1, 3]);
    for (const node of network.nodes.values()) {
      const committedAtTwo = node.appliedEntries.find((entry) => entry.index === 2);
      if (committedAtTwo !== undefined) expect(committedAtTwo.term).toBe(3);
    }
  });

  it('figure 8 with unsafeCommitByCountingOlderTerms: two different entries get committed at one index', () => {
    const network = figure8(true);
    expect(network.raft(1).status().commit).toBe(2);
    const appliedByS1 = network.node(1).appliedEntries.find((entry) => entry.index === 2);
    expect(appliedByS1?.term).toBe(2);
    network.rewrite = (message) => message;
    network.heal();
    network.isolate(1);
    while (network.raft(5).role !== 'leader') network.elect(5);
    network.propose(5, 'from S5');
    const appliedByS5 = network.node(5).appliedEntries.find((entry) => entry.index === 2);
    expect(appliedByS5?.term).toBe(3);
  });

  it('pipelines appends in replicate state, bounded by the inflight window', () => {
    const network = new Network({ voters: [1, 2, 3], maxInflightMessages: 4 });
    network.elect(1);
    network.cut(1, 2);
    network.cut(1, 3);
    for (let index = 0; index < 10; index++) {
      network.raft(1).propose(new TextEncoder().encode(`p${index}`));
      network.collect();
    }
    const appendsTo2 = network.queue.filter((message) => message.type === 'append' && message.to === 2);
    expect(appendsTo2).toHaveLength(4);
    expect(network.raft(1).status().progress?.get(2)?.inflightMessages).toBe(4);
    network.queue = [];
    network.heal();
    network.tickAll(3);
    for (const id of [2, 3]) expect(network.node(id).applied).toHaveLength(10);
  });

  it('batches every proposal made between two Ready rounds into one append per follower', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    for (let index = 0; index < 20; index++) network.raft(1).propose(new TextEncoder().encode(`b${index}`));
    const messages = network.collect();
    const appends = messages.filter((message) => message.type === 'append');
    expect(appends).toHaveLength(2);
    for (const append of appends) if (append.type === 'append') expect(append.entries).toHaveLength(20);
    network.stabilize();
    expect(network.node(3).applied).toHaveLength(20);
  });

  it('an append carrying only a new commit index is not answered by a matching follower, but a refusal still is', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    const seen: Message[] = [];
    network.filter = (message) => {
      seen.push(message);
      return true;
    };
    const index = network.propose(1, 'quiet');
    network.stabilize();
    const commitOnly = seen.filter((message) => message.type === 'append' && message.entries.length === 0);
    expect(commitOnly.map((message) => message.to).sort()).toEqual([2, 3]);
    for (const message of commitOnly)
      expect(message.type === 'append' && message.answerOnlyIfRefused).toBe(true);
    const answers = seen.filter((message) => message.type === 'appendResponse');
    // One answer per follower: to the entry, none to the commit index that followed it.
    expect(answers.map((message) => message.type === 'appendResponse' && message.index)).toEqual([
      index,
      index,
    ]);
    for (const id of [2, 3]) expect(network.node(id).applied.at(-1)).toBe('quiet');

    // A follower whose log does not match the append answers it with a refusal all the same.
    network.queue = [];
    const term = network.raft(1).status().term;
    network.deliver({
      type: 'append',
      from: 1,
      to: 2,
      term,
      prevIndex: index + 5,
      prevTerm: term,
      entries: [],
      commit: index,
      answerOnlyIfRefused: true,
    });
    const refusals = network.collect().filter((message) => message.type === 'appendResponse');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.type === 'appendResponse' && refusals[0].success).toBe(false);
  });

  it('a follower that lost appended messages recovers through heartbeats', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.cut(1, 3);
    for (let index = 0; index < 5; index++) network.propose(1, `lost${index}`);
    network.heal();
    network.tickAll(3);
    expect(network.node(3).applied).toEqual(network.node(1).applied);
  });
});

describe('snapshots (Raft paper section 7)', () => {
  it('a far-behind follower catches up from a chunked snapshot, then by appends', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.isolate(3);
    const payload = 'x'.repeat(3000);
    for (let index = 0; index < 50; index++) network.propose(1, `${index}:${payload}`);
    network.snapshotAndCompact(1);
    expect(network.node(1).storage.firstIndex()).toBeGreaterThan(2);
    let chunks = 0;
    network.filter = (message) => {
      if (message.type === 'snapshot' && message.to === 3) chunks++;
      return true;
    };
    network.heal();
    network.tickAll(3);
    expect(chunks).toBeGreaterThanOrEqual(2);
    const snapshot = network.node(3).storage.snapshot();
    expect(snapshot.byteLength).toBeGreaterThan(SNAPSHOT_CHUNK_BYTES);
    expect(snapshot.metadata.config.voters).toEqual([1, 2, 3]);
    expect(network.node(3).applied).toEqual(network.node(1).applied);
    network.propose(1, 'after snapshot');
    expect(network.node(3).applied.at(-1)).toBe('after snapshot');
    expect(network.raft(1).status().progress?.get(3)?.state).toBe('replicate');
  });

  it('a snapshot transfer survives a lost chunk', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.isolate(3);
    const payload = 'y'.repeat(5000);
    for (let index = 0; index < 40; index++) network.propose(1, `${index}:${payload}`);
    network.snapshotAndCompact(1);
    let dropped = false;
    network.filter = (message) => {
      if (message.type === 'snapshot' && message.offset > 0 && !dropped) {
        dropped = true;
        return false;
      }
      return true;
    };
    network.heal();
    network.tickAll(6);
    expect(dropped).toBe(true);
    expect(network.node(3).applied).toEqual(network.node(1).applied);
  });
});

describe('transport feedback', () => {
  it('reportUnreachable stops pipelining to a peer until it answers a probe', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.propose(1, 'a');
    expect(network.raft(1).status().progress?.get(2)?.state).toBe('replicate');
    network.raft(1).reportUnreachable(2);
    expect(network.raft(1).status().progress?.get(2)?.state).toBe('probe');
    network.propose(1, 'b');
    expect(network.raft(1).status().progress?.get(2)?.state).toBe('replicate');
    expect(network.node(2).applied).toEqual(['a', 'b']);
  });

  it('reportSnapshot failure sends the follower back to probing, and it catches up again', () => {
    const network = new Network({ voters: [1, 2, 3] });
    network.elect(1);
    network.isolate(3);
    for (let index = 0; index < 5; index++) network.propose(1, `s${index}`);
    network.snapshotAndCompact(1);
    network.filter = (message) => message.type !== 'snapshot';
    network.heal();
    network.tickAll(2);
    expect(network.raft(1).status().progress?.get(3)?.state).toBe('snapshot');
    network.raft(1).reportSnapshot(3, 'failure');
    expect(network.raft(1).status().progress?.get(3)?.state).toBe('probe');
    network.filter = () => true;
    network.tickAll(3);
    expect(network.node(3).applied).toEqual(network.node(1).applied);
  });
});
