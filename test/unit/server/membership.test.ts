import { afterEach, describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import type { RaftKvBackend } from '../../../src/server/index.js';
import { KvCluster } from './kv-cluster.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('membership through any member', () => {
  let cluster: KvCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  async function started(): Promise<{ cluster: KvCluster; leaderId: number; followerIds: number[] }> {
    const created = new KvCluster([1, 2, 3], { forwarding: true });
    cluster = created;
    await created.start();
    const leader = await created.waitForLeader();
    for (const entry of created.nodes.values()) created.backend(entry);
    const followerIds = [1, 2, 3].filter((id) => id !== leader.id);
    return { cluster: created, leaderId: leader.id, followerIds };
  }

  const backendOf = (id: number): RaftKvBackend => cluster!.backend(cluster!.get(id));
  const ids = (change: { members: readonly { id: number }[] }) => change.members.map((member) => member.id);

  it('adds, promotes-refuses and removes a learner through a follower, answering the members after', async () => {
    const { followerIds } = await started();
    const follower = backendOf(followerIds[0]!);
    const added = await follower.addMember(['http://127.0.0.1:1'], true);
    expect(added.member).toMatchObject({ id: 4, isLearner: true });
    expect(ids(added)).toEqual([1, 2, 3, 4]);
    await expect(follower.addMember(['http://127.0.0.1:1'], true)).rejects.toSatisfy((error) =>
      isMeshError(error, 'PEER_URL_EXISTS'),
    );
    await expect(follower.promoteMember(1)).rejects.toSatisfy((error) =>
      isMeshError(error, 'MEMBER_NOT_LEARNER'),
    );
    const updated = await follower.updateMember(4, ['http://127.0.0.1:2']);
    expect(updated.members.find((member) => member.id === 4)?.peerUrls).toEqual(['http://127.0.0.1:2']);
    expect(ids(await follower.removeMember(4))).toEqual([1, 2, 3]);
    await expect(follower.removeMember(4)).rejects.toSatisfy((error) =>
      isMeshError(error, 'MEMBER_NOT_FOUND'),
    );
  });

  it('moves leadership to a voter through a follower, and refuses a target that is no voter', async () => {
    const { cluster, followerIds } = await started();
    const [asker, target] = followerIds as [number, number];
    await backendOf(asker).moveLeader(target);
    expect(cluster.get(target).node.isLeader()).toBe(true);
    await expect(backendOf(asker).moveLeader(99)).rejects.toSatisfy((error) =>
      isMeshError(error, 'BAD_LEADER_TRANSFEREE'),
    );
  });

  it('removes a follower, which then refuses every request with MEMBER_REMOVED', async () => {
    const { cluster, followerIds } = await started();
    const [asker, removed] = followerIds as [number, number];
    expect(ids(await backendOf(asker).removeMember(removed))).not.toContain(removed);
    await cluster.until(() => cluster.get(removed).node.isRemoved, 'the removed node to take note');
    const gone = backendOf(removed);
    const refusals = await Promise.allSettled([
      gone.execute({ type: 'put', key: bytes('k'), value: bytes('v') }),
      gone.range({ type: 'range', key: bytes('k'), serializable: true }),
      gone.range({ type: 'range', key: bytes('k') }),
      gone.leaseKeepAlive(1),
      gone.members(),
      gone.removeMember(asker),
    ]);
    expect(
      refusals.map(
        (refusal) => refusal.status === 'rejected' && isMeshError(refusal.reason, 'MEMBER_REMOVED'),
      ),
    ).toEqual([true, true, true, true, true, true]);
    // The others go on without it.
    await backendOf(asker).execute({ type: 'put', key: bytes('after'), value: bytes('1') });
  });

  it('removes the leader through itself: it hands over first and answers the real outcome', async () => {
    const { cluster, leaderId } = await started();
    const leader = backendOf(leaderId);
    const pending = leader.execute({ type: 'put', key: bytes('during'), value: bytes('1') });
    const change = await leader.removeMember(leaderId);
    expect(ids(change)).not.toContain(leaderId);
    await expect(pending).resolves.toMatchObject({ type: 'put' });
    await cluster.until(() => cluster.get(leaderId).node.isRemoved, 'the old leader to take note');
    const next = [...cluster.nodes.values()].find((entry) => entry.node.isLeader());
    expect(next?.id).not.toBe(leaderId);
  });
});
