import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Disk, isMeshError, MemoryDisk, SeededRandom, SystemClock } from '../../../src/lib/index.js';
import { decodeMessage } from '../../../src/raft/index.js';
import { MAX_WAITING_READS, RaftNode } from '../../../src/server/index.js';
import { openRaftLogStore, RaftLogStore } from '../../../src/store/index.js';
import { withFileOverrides } from '../../support/file-overrides.js';
import { ListStateMachine, MemoryLinks, TestCluster } from './cluster-harness.js';

const encode = (text: string) => new TextEncoder().encode(text);

/** Attempts of a read that the harness's short read timeout (100 ms) may drop on a loaded machine. */
const READ_ATTEMPTS = 20;

/**
 * A linearizable read, retried as a client retries it while it is dropped (READ_DROPPED is
 * typed and retryable): at a load of 20 one ReadIndex round can outlast the harness's 100 ms.
 */
async function servedBarrier(node: { linearizableBarrier(): Promise<void> }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await node.linearizableBarrier();
    } catch (error) {
      if (!isMeshError(error, 'READ_DROPPED') || attempt >= READ_ATTEMPTS) throw error;
    }
  }
}

/**
 * A node's log writes on memory disks that settle them later, and on ones that write and sync
 * within the call (a quick device's inline writes: the write is durable in the Ready that
 * started it, and what waited for it leaves at once).
 */
describe.each([
  ['memory disks', false],
  ['memory disks that write now', true],
])('RaftNode host on %s', (_name, writesNow) => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await cluster?.stop();
    cluster = undefined;
  });

  it('elects a leader, replicates proposals and applies them in one order everywhere', async () => {
    cluster = new TestCluster([1, 2, 3], undefined, writesNow);
    const appendNow = vi.spyOn(RaftLogStore.prototype, 'appendNow');
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) => leader.node.propose(encode(`v${index}`))),
    );
    expect(results.at(-1)).toBe(50);
    await cluster.until(
      () => [...cluster!.nodes.values()].every((entry) => entry.machine.items.length === 50),
      'apply',
    );
    const orders = [...cluster.nodes.values()].map((entry) => entry.machine.items.join(','));
    expect(new Set(orders).size).toBe(1);
    expect(new Set(orders[0]!.split(',')).size).toBe(50);
    expect(leader.node.storeMetrics().fsyncs).toBeLessThan(50);
    // Log writes durable before appendNow returned: only where the disk can write so.
    const durableInTurn = appendNow.mock.results.filter(
      (result) => result.type === 'return' && result.value === undefined,
    ).length;
    if (writesNow) expect(durableInTurn).toBeGreaterThan(0);
    else expect(durableInTurn).toBe(0);
  });

  it('keeps every acknowledged entry through a crash that loses unsynced writes', async () => {
    cluster = new TestCluster([1, 2, 3], undefined, writesNow);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    for (let index = 0; index < 20; index++) await leader.node.propose(encode(`a${index}`));
    await cluster.crashAndRestart(leader.id);
    const next = await cluster.waitForLeader();
    await next.node.propose(encode('after'));
    await cluster.until(
      () => [...cluster!.nodes.values()].every((entry) => entry.machine.items.length === 21),
      'all nodes to apply 21 entries',
    );
    for (const entry of cluster.nodes.values()) {
      expect(entry.machine.items.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, index) => `a${index}`));
    }
  });

  it('catches up a node that was cut off, through a snapshot once the log is compacted', async () => {
    cluster = new TestCluster([1, 2, 3], 20, writesNow);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const lagging = [...cluster.nodes.values()].find((entry) => entry.id !== leader.id)!;
    cluster.links.isolated.add(lagging.id);
    for (let index = 0; index < 60; index++) await leader.node.propose(encode(`s${index}`));
    expect(leader.node.status().firstIndex).toBeGreaterThan(2);
    cluster.links.isolated.delete(lagging.id);
    await cluster.until(() => lagging.machine.items.length === 60, 'the lagging node to catch up');
    expect(lagging.machine.items).toEqual(leader.machine.items);
    expect(lagging.node.storeMetrics().snapshotsSaved).toBeGreaterThan(0);
  });
});

describe('RaftNode host', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('refuses to start when the hard state commits entries the log lost', async () => {
    const disk = new MemoryDisk();
    await disk.makeDirectory('/data');
    const clock = new SystemClock();
    const { store } = await openRaftLogStore(disk, '/data/raft', { clock });
    // What a disk that acknowledged fsyncs it never did leaves behind: a commit index, no entries.
    await store.append([], { term: 3, vote: 1, commit: 7 });
    await store.close();
    const started = RaftNode.start({
      id: 1,
      dataDirectory: '/data/raft',
      initialVoters: [1, 2, 3],
      disk,
      clock,
      random: new SeededRandom(1),
      link: new MemoryLinks().linkFor(1),
      stateMachine: new ListStateMachine(),
    });
    const error = await started.catch((caught: unknown) => caught);
    expect(isMeshError(error, 'STORE_CORRUPT')).toBe(true);
    expect((error as Error).message).toContain('commits through 7');
  });

  it.each([
    ['settles its writes later', false],
    ['writes now', true],
  ])(
    'flushes the messages of a drain before the log writes that follow it (a disk that %s)',
    async (_name, writesNow) => {
      const events: string[] = [];
      const node = await settledLoneVoter(events, { writesNow });
      try {
        await node.propose(encode('x'));
        const firstAppend = events.indexOf('append');
        expect(firstAppend).toBeGreaterThan(0);
        expect(events.slice(0, firstAppend)).toContain('flush');
      } finally {
        await node.stop();
      }
    },
  );

  it('leaves the messages of a drain that writes nothing to flushAfterReactions', async () => {
    const events: string[] = [];
    const node = await settledLoneVoter(events, {
      flushAfterReactions: () => events.push('after reactions'),
    });
    try {
      // A lone voter: one drain appends the entry (and flushes before the write), a later one
      // commits and applies it, which starts no write.
      await node.propose(encode('x')).then(() => events.push('answered'));
      const append = events.indexOf('append');
      expect(append).toBeGreaterThan(0);
      expect(events.slice(0, append)).toContain('flush');
      const afterAppend = events.slice(append);
      expect(afterAppend).not.toContain('flush');
      expect(afterAppend.indexOf('after reactions')).toBeGreaterThan(0);
      expect(afterAppend.indexOf('after reactions')).toBeLessThan(afterAppend.indexOf('answered'));
    } finally {
      await node.stop();
    }
  });

  it('refuses proposals on a follower with NOT_LEADER naming the leader', async () => {
    cluster = new TestCluster([1, 2, 3]);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.nodes.values()].find((entry) => entry.id !== leader.id)!;
    const error = await follower.node.propose(encode('x')).catch((caught: unknown) => caught);
    expect(isMeshError(error, 'NOT_LEADER')).toBe(true);
    expect((error as { details: { leaderId?: number } }).details.leaderId).toBe(leader.id);
  });

  it('answers a linearizable barrier only after applying what was committed before it', async () => {
    cluster = new TestCluster([1, 2, 3]);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await leader.node.propose(encode('one'));
    const follower = [...cluster.nodes.values()].find((entry) => entry.id !== leader.id)!;
    await follower.node.linearizableBarrier();
    expect(follower.machine.items).toContain('one');
  });

  it('serves many concurrent linearizable reads on a follower with few ReadIndex requests', async () => {
    cluster = new TestCluster([1, 2, 3]);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await leader.node.propose(encode('before the reads'));
    const follower = [...cluster.nodes.values()].find((entry) => entry.id !== leader.id)!;
    const readIndexRequests = () =>
      cluster!.links.sent.filter(
        (sent) => sent.from === follower.id && decodeMessage(sent.payload).type === 'readIndex',
      ).length;
    const before = readIndexRequests();
    await Promise.all(Array.from({ length: 50 }, () => follower.node.linearizableBarrier()));
    expect(follower.machine.items).toContain('before the reads');
    // Reads that arrive while a request is in flight share the next one: 50 reads, at most 2.
    const requests = readIndexRequests() - before;
    expect(requests).toBeGreaterThanOrEqual(1);
    expect(requests).toBeLessThanOrEqual(2);
  });

  it('refuses a read beyond MAX_WAITING_READS with a typed error, and serves the rest', async () => {
    cluster = new TestCluster([1, 2, 3]);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const waiting = Array.from({ length: MAX_WAITING_READS }, () => leader.node.linearizableBarrier());
    const refused = await leader.node.linearizableBarrier().catch((error: unknown) => error);
    expect(isMeshError(refused, 'TOO_MANY_PENDING_READS')).toBe(true);
    // The waiting reads are served, or (queuing 100,000 takes longer than this harness's short
    // read timeout) dropped with a typed, retryable error; none is lost.
    const outcomes = await Promise.allSettled(waiting);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(isMeshError(outcome.reason, 'READ_DROPPED')).toBe(true);
    }
    // Once the queue drained, the node serves reads again.
    await servedBarrier(leader.node);
  });

  it('hands leadership over on a graceful stop', async () => {
    cluster = new TestCluster([1, 2, 3]);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await leader.node.propose(encode('before'));
    await leader.node.stop(2_000);
    cluster.links.isolated.add(leader.id);
    const next = await cluster.waitForLeader();
    expect(next.id).not.toBe(leader.id);
    expect(await next.node.propose(encode('after'))).toBeGreaterThanOrEqual(2);
  });

  /** Cuts the leader off with one proposal pending until the others elect a new leader. */
  async function deposeLeaderWithProposalPending() {
    const started = new TestCluster([1, 2, 3]);
    cluster = started;
    await started.start();
    const leader = await started.waitForLeader();
    started.links.isolated.add(leader.id);
    const pending = leader.node.propose(encode('lost')).catch((caught: unknown) => caught);
    const others = [...started.nodes.values()].filter((entry) => entry.id !== leader.id);
    await started.until(() => others.some((entry) => entry.node.isLeader()), 'a new leader among the others');
    return { cluster: started, leader, pending };
  }

  it('answers a deposed leader’s pending proposal with PROPOSAL_DROPPED once the next leader overwrites it', async () => {
    const { cluster, leader, pending } = await deposeLeaderWithProposalPending();
    cluster.links.isolated.delete(leader.id);
    const error = await pending;
    expect(isMeshError(error, 'PROPOSAL_DROPPED')).toBe(true);
    const next = await cluster.waitForLeader();
    await next.node.propose(encode('after'));
    await cluster.until(() => leader.machine.items.includes('after'), 'the old leader to catch up');
    for (const entry of cluster.nodes.values()) expect(entry.machine.items).not.toContain('lost');
  });

  it('answers LEADER_CHANGED when no later leader settles a deposed leader’s proposal', async () => {
    const { pending } = await deposeLeaderWithProposalPending();
    const error = await pending;
    expect(isMeshError(error, 'LEADER_CHANGED')).toBe(true);
  });

  it('answers a handed-over leader’s pending proposals with their real outcome', async () => {
    cluster = new TestCluster([1, 2, 3]);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const pending = ['a', 'b', 'c'].map((item) => leader.node.propose(encode(item)));
    const successor = await leader.node.handOverLeadership(2_000);
    expect(successor).not.toBe(0);
    expect(leader.node.isLeader()).toBe(false);
    const indexes = await Promise.all(pending);
    expect(indexes).toHaveLength(3);
    await cluster.until(() => leader.machine.items.includes('c'), 'the proposals to apply');
  });
});

/** A memory disk with /data, noting 'append' in `events` at each append to a file. */
/**
 * A lone voter on a disk that notes its log writes in `events`, as are its link's flushes, once
 * it leads and its first proposal is answered (a lone voter answers once its own write is done:
 * nothing is in flight after); `events` starts empty then.
 */
async function settledLoneVoter(
  events: string[],
  options: { readonly writesNow?: boolean; readonly flushAfterReactions?: () => void },
): Promise<RaftNode<number>> {
  const disk = await diskNotingAppends(events, options.writesNow === true);
  const link = new MemoryLinks().linkFor(1);
  const node = await RaftNode.start({
    id: 1,
    dataDirectory: '/data/raft',
    initialVoters: [1],
    disk,
    clock: new SystemClock(),
    random: new SeededRandom(1),
    link: { ...link, flush: () => events.push('flush') },
    ...(options.flushAfterReactions === undefined
      ? {}
      : { flushAfterReactions: options.flushAfterReactions }),
    stateMachine: new ListStateMachine(),
  });
  try {
    node.campaign();
    await node.waitReady(5_000);
    await node.propose(encode('settle'));
  } catch (error) {
    await node.stop();
    throw error;
  }
  events.length = 0;
  return node;
}

async function diskNotingAppends(events: string[], writesNow = false): Promise<Disk> {
  const memory = new MemoryDisk({ writesNow });
  await memory.makeDirectory('/data');
  return withFileOverrides(memory, (file) => ({
    append: (data: Uint8Array) => {
      events.push('append');
      return file.append(data);
    },
    // The log writes its records at its own end offset in a preallocated segment.
    writeAt: (data: Uint8Array, offset: number) => {
      events.push('append');
      return file.writeAt(data, offset);
    },
    ...(file.writeAtNow === undefined
      ? {}
      : {
          writeAtNow: (data: Uint8Array, offset: number) => {
            events.push('append');
            return file.writeAtNow?.(data, offset) === true;
          },
        }),
  }));
}
