import { describe, expect, it } from 'vitest';
import { isMeshError, ManualClock } from '../../src/lib/index.js';
import { LEASE_EXPIRY_CHECK_INTERVAL_MS, LocalKvBackend } from './local-kv-backend.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function backend(): { local: LocalKvBackend; clock: ManualClock } {
  const clock = new ManualClock();
  return { local: new LocalKvBackend({ clock }), clock };
}

async function grant(local: LocalKvBackend, ttlSeconds: number): Promise<number> {
  return (await local.execute({ type: 'leaseGrant', id: 0, ttlSeconds })).id;
}

describe('LocalKvBackend', () => {
  it('applies commands at increasing indexes and reports them in status', async () => {
    const { local } = backend();
    await local.execute({ type: 'put', key: bytes('a'), value: bytes('1') });
    await local.execute({ type: 'put', key: bytes('b'), value: bytes('2') });
    const status = await local.status();
    expect(status.raftAppliedIndex).toBe(2);
    expect(status.revision).toBe(local.currentRevision());
    expect(status.leaderId).toBe(local.memberId);
    expect((await local.range({ type: 'range', key: bytes('a'), rangeEnd: bytes('c') })).count).toBe(2);
    local.close();
  });

  it('rejects a refused command with its typed error and leaves the state alone', async () => {
    const { local } = backend();
    const before = local.currentRevision();
    await expect(local.execute({ type: 'compact', revision: 100 })).rejects.toSatisfy((error) =>
      isMeshError(error, 'KV_FUTURE_REVISION'),
    );
    expect(local.currentRevision()).toBe(before);
    local.close();
  });

  it('revokes an expired lease through an applied command, deleting its keys for watchers', async () => {
    const { local, clock } = backend();
    const id = await grant(local, 5);
    await local.execute({ type: 'put', key: bytes('held'), value: bytes('v'), lease: id });
    const watcher = local.watch({ key: bytes('held') });
    clock.advance(4_000);
    expect((await local.leaseTimeToLive(id, true)).ttlSeconds).toBe(1);
    clock.advance(1_000);
    const answer = await local.leaseTimeToLive(id, false);
    expect(answer.ttlSeconds).toBe(-1);
    expect((await local.range({ type: 'range', key: bytes('held') })).count).toBe(0);
    const [deleted] = watcher.drain();
    expect(deleted?.events.map((event) => event.type)).toEqual(['delete']);
    local.close();
  });

  it('keeps a lease alive past its first deadline after a keepalive', async () => {
    const { local, clock } = backend();
    const id = await grant(local, 5);
    clock.advance(4_000);
    expect(await local.leaseKeepAlive(id)).toBe(5);
    clock.advance(4_000);
    expect((await local.leaseList()).map((lease) => lease.id)).toEqual([id]);
    clock.advance(1_000 + LEASE_EXPIRY_CHECK_INTERVAL_MS);
    expect(await local.leaseList()).toEqual([]);
    await expect(local.leaseKeepAlive(id)).rejects.toSatisfy((error) =>
      isMeshError(error, 'KV_LEASE_NOT_FOUND'),
    );
    local.close();
  });

  it('keeps a member list: add, promote, remove, with typed refusals', async () => {
    const { local } = backend();
    await expect(local.addMember(['not a url'], false)).rejects.toSatisfy((error) =>
      isMeshError(error, 'MEMBER_BAD_URLS'),
    );
    const added = await local.addMember(['http://10.0.0.2:2380'], true);
    const learner = added.member!;
    expect(added.members.map((member) => member.id)).toContain(learner.id);
    await expect(local.addMember(['http://10.0.0.2:2380'], false)).rejects.toSatisfy((error) =>
      isMeshError(error, 'PEER_URL_EXISTS'),
    );
    await expect(local.promoteMember(local.memberId)).rejects.toSatisfy((error) =>
      isMeshError(error, 'MEMBER_NOT_LEARNER'),
    );
    await local.promoteMember(learner.id);
    expect((await local.members()).find((member) => member.id === learner.id)?.isLearner).toBe(false);
    await expect(local.updateMember(learner.id, ['http://10.0.0.3'])).rejects.toSatisfy((error) =>
      isMeshError(error, 'MEMBER_BAD_URLS'),
    );
    const updated = await local.updateMember(learner.id, ['http://10.0.0.3:2380']);
    expect(updated.members.find((member) => member.id === learner.id)?.peerUrls).toEqual([
      'http://10.0.0.3:2380',
    ]);
    await expect(local.moveLeader(learner.id)).rejects.toSatisfy((error) =>
      isMeshError(error, 'BAD_LEADER_TRANSFEREE'),
    );
    await local.moveLeader(local.memberId);
    expect((await local.removeMember(learner.id)).members).toHaveLength(1);
    await expect(local.removeMember(learner.id)).rejects.toSatisfy((error) =>
      isMeshError(error, 'MEMBER_NOT_FOUND'),
    );
    local.close();
  });

  it('stops checking leases once closed', async () => {
    const { local, clock } = backend();
    const id = await grant(local, 2);
    local.close();
    clock.advance(10_000);
    expect((await local.leaseList()).map((lease) => lease.id)).toEqual([id]);
  });
});
