import { afterAll, describe, expect, it } from 'vitest';
import { fetchStatus } from '../../src/cli/admin-json.js';
import { EXIT_MEMBER_REMOVED } from '../../src/cli/node-commands.js';
import { findFreeLoopbackPort } from '../../src/lib/node/index.js';
import { etcdctl } from './etcdctl.js';
import { ProcessCluster } from './process-cluster.js';
import { PutLoad, type PutLoadResult } from './put-load.js';

const LEADER_TIMEOUT_MS = 30_000;
const CHANGE_TIMEOUT_MS = 30_000;
const LOAD_CLIENTS = 16;
/** Bounds of each step's load: at most this many puts per client and this long. */
const LOAD_MAX_PUTS_PER_CLIENT = 5_000;
const LOAD_MAX_DURATION_MS = 60_000;
/** Puts acknowledged before and after each change: the load really runs across it. */
const LOAD_PROGRESS_PUTS = 50;
const LOAD_PROGRESS_TIMEOUT_MS = 20_000;

interface NodeView {
  readonly term: number;
  readonly leaderId: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
}

async function viewOf(cluster: ProcessCluster, id: number): Promise<NodeView | undefined> {
  const status = await fetchStatus(cluster.plan(id).admin, 1_000);
  if (status === undefined) return undefined;
  return {
    term: Number(status.term),
    leaderId: Number(status.leaderId),
    commitIndex: Number(status.commitIndex),
    appliedIndex: Number(status.appliedIndex),
  };
}

/** The highest term any of `ids` reports: it moves only when an election happens. */
async function termOf(cluster: ProcessCluster, ids: readonly number[]): Promise<number> {
  const views = await Promise.all(ids.map((id) => viewOf(cluster, id)));
  return Math.max(...views.map((view) => view?.term ?? 0));
}

const hex = (id: number): string => id.toString(16);

/** Runs `change` while a bounded put load runs against `endpoints`; answers what the load saw. */
async function underLoad(endpoints: readonly string[], change: () => Promise<void>): Promise<PutLoadResult> {
  const load = new PutLoad({
    endpoints,
    clients: LOAD_CLIENTS,
    maxPutsPerClient: LOAD_MAX_PUTS_PER_CLIENT,
    maxDurationMs: LOAD_MAX_DURATION_MS,
  });
  try {
    await load.waitForProgress(LOAD_PROGRESS_PUTS, LOAD_PROGRESS_TIMEOUT_MS);
    await change();
    await load.waitForProgress(LOAD_PROGRESS_PUTS, LOAD_PROGRESS_TIMEOUT_MS);
  } finally {
    await load.stop();
  }
  return load.stop();
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('membership changes through any member, under a put load', () => {
  let cluster: ProcessCluster;
  afterAll(async () => {
    await cluster?.stopAll();
  });

  const followers = async (): Promise<number[]> => {
    const leader = await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    return [...cluster.processes.keys()].filter((id) => id !== leader).sort((a, b) => a - b);
  };
  const clientsOf = (ids: readonly number[]): string[] => ids.map((id) => cluster.plan(id).client);

  it('joins a node through a follower and promotes it without an election', async () => {
    const startedMs = Date.now();
    cluster = await ProcessCluster.create(3);
    cluster.startAll();
    const [via] = await followers();
    const termBefore = await termOf(cluster, [1, 2, 3]);
    const load = await underLoad(clientsOf([1, 2, 3]), async () => {
      await cluster.join(4, via!, { promote: true });
      await cluster.waitForVoters([1, 2, 3, 4], CHANGE_TIMEOUT_MS);
    });
    console.log(`join+promote: ${load.acknowledged} puts, ${Date.now() - startedMs} ms`);
    expect(load.errors, cluster.describeOutput()).toEqual([]);
    expect(await termOf(cluster, [1, 2, 3, 4])).toBe(termBefore);
  }, 90_000);

  it('removes a member through a follower; the removed node stops with its own exit code', async () => {
    const termBefore = await termOf(cluster, [1, 2, 3, 4]);
    const via = (await followers()).find((id) => id !== 4)!;
    let answer = '';
    const load = await underLoad(clientsOf([1, 2, 3]), async () => {
      answer = await etcdctl([cluster.plan(via).client], ['member', 'remove', hex(4)]);
    });
    expect(answer).toMatch(new RegExp(`Member\\s+${hex(4)} removed`));
    expect(load.errors, cluster.describeOutput()).toEqual([]);
    expect(await cluster.waitForExit(4, CHANGE_TIMEOUT_MS)).toBe(EXIT_MEMBER_REMOVED);
    expect(cluster.output.get(4)?.join('')).toContain('node 4 was removed from the cluster');
    await cluster.waitForVoters([1, 2, 3], CHANGE_TIMEOUT_MS);
    expect(await termOf(cluster, [1, 2, 3])).toBe(termBefore);
  }, 60_000);

  it('moves leadership with etcdctl move-leader: one handover, no client error', async () => {
    const leader = await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    const target = (await followers())[0]!;
    const termBefore = await termOf(cluster, [1, 2, 3]);
    const load = await underLoad(clientsOf([1, 2, 3]), async () => {
      await etcdctl(clientsOf([1, 2, 3]), ['move-leader', hex(target)]);
    });
    expect(load.errors, cluster.describeOutput()).toEqual([]);
    expect(await cluster.waitForLeader(LEADER_TIMEOUT_MS)).toBe(target);
    expect(target).not.toBe(leader);
    // The transfer is the one election: the target campaigns once, at the next term.
    expect(await termOf(cluster, [1, 2, 3])).toBe(termBefore + 1);
    await expect(etcdctl(clientsOf([1, 2, 3]), ['move-leader', hex(99)])).rejects.toThrow(
      /bad leader transferee/,
    );
  }, 60_000);

  it('updates a member’s peer URL; restarted there, it catches up through the new address', async () => {
    const updated = (await followers())[0]!;
    const others = [1, 2, 3].filter((id) => id !== updated);
    const newPeer = `127.0.0.1:${await findFreeLoopbackPort()}`;
    const termBefore = await termOf(cluster, others);
    const load = await underLoad(clientsOf(others), async () => {
      await etcdctl(clientsOf(others), ['member', 'update', hex(updated), `--peer-urls=http://${newPeer}`]);
      await cluster.stop(updated);
      cluster.start(updated, { peerListen: newPeer });
      // Appends reach the restarted node only if the others dial its new address.
      const target = (await viewOf(cluster, others[0]!))!.commitIndex;
      await until('the restarted node to catch up', CHANGE_TIMEOUT_MS, async () => {
        const view = await viewOf(cluster, updated);
        return view !== undefined && view.leaderId !== 0 && view.appliedIndex >= target;
      });
    });
    expect(load.errors, cluster.describeOutput()).toEqual([]);
    expect(await termOf(cluster, others)).toBe(termBefore);
    const list = await etcdctl(clientsOf(others), ['member', 'list']);
    expect(list).toContain(`http://${newPeer}`);
  }, 60_000);

  it('removes the leader through itself: it hands over first, answers success and stops', async () => {
    const leader = await cluster.waitForLeader(LEADER_TIMEOUT_MS);
    const others = [1, 2, 3].filter((id) => id !== leader);
    let answer = '';
    const load = await underLoad(clientsOf(others), async () => {
      answer = await etcdctl([cluster.plan(leader).client], ['member', 'remove', hex(leader)]);
    });
    expect(answer).toMatch(new RegExp(`Member\\s+${hex(leader)} removed`));
    expect(load.errors, cluster.describeOutput()).toEqual([]);
    expect(await cluster.waitForExit(leader, CHANGE_TIMEOUT_MS)).toBe(EXIT_MEMBER_REMOVED);
    await cluster.waitForVoters(others, CHANGE_TIMEOUT_MS);
    expect(others).toContain(await cluster.waitForLeader(LEADER_TIMEOUT_MS));
    // Its data directory remembers: started again there, it refuses to run.
    cluster.start(leader);
    expect(await cluster.waitForExit(leader, CHANGE_TIMEOUT_MS)).toBe(EXIT_MEMBER_REMOVED);
    expect(cluster.output.get(leader)?.join('')).toContain('does not start again');
  }, 60_000);

  it('a member removed while it was down learns of it from the first peer it reaches, and stops', async () => {
    const members = (await followers()).concat(await cluster.waitForLeader(LEADER_TIMEOUT_MS));
    const via = members[0]!;
    // Ids 4 and the old leader's were removed: a new member gets a fresh id, never a reused one.
    const learner = 5;
    await cluster.join(learner, via, { promote: false });
    await until('the learner to follow the leader', CHANGE_TIMEOUT_MS, async () => {
      const view = await viewOf(cluster, learner);
      return view !== undefined && view.leaderId !== 0;
    });
    await cluster.kill(learner);
    const answer = await etcdctl(clientsOf(members), ['member', 'remove', hex(learner)]);
    expect(answer).toMatch(new RegExp(`Member\\s+${hex(learner)} removed`));
    cluster.start(learner, { peerListen: cluster.plan(learner).peer });
    const exit = await cluster.waitForExit(learner, CHANGE_TIMEOUT_MS);
    expect(exit, cluster.output.get(learner)?.join('')).toBe(EXIT_MEMBER_REMOVED);
    expect(cluster.output.get(learner)?.join('')).toContain(`node ${learner} was removed from the cluster`);
  }, 60_000);
});
