/**
 * The `etcd3` npm client against a real three-node MeshOS cluster, given all three endpoints as
 * `http://` URLs: every call below is an ordinary client call, so what passes here is what an
 * etcd user's code sees.
 */
import { Etcd3, EtcdLeaseInvalidError, GRPCOutOfRangeError, type IKeyValue, type Watcher } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConformanceCluster, startConformanceCluster, until } from './cluster.js';

/** Longest a lease may take to expire after its TTL: the leader checks deadlines on a timer. */
const LEASE_EXPIRY_DEADLINE_MS = 15_000;

let cluster: ConformanceCluster;
let client: Etcd3;

beforeAll(async () => {
  cluster = await startConformanceCluster('etcd3-conformance');
  client = new Etcd3({ hosts: [...cluster.urls] });
});

afterAll(async () => {
  client?.close();
  await cluster?.close();
});

/** Resolves with the first `count` events of a watcher, in order. */
function events(
  watcher: Watcher,
  count: number,
): Promise<{ type: string; kv: IKeyValue; prev?: IKeyValue }[]> {
  const seen: { type: string; kv: IKeyValue; prev?: IKeyValue }[] = [];
  return new Promise((resolve, reject) => {
    const add = (type: string) => (kv: IKeyValue, prev?: IKeyValue) => {
      seen.push(prev === undefined ? { type, kv } : { type, kv, prev });
      if (seen.length === count) resolve(seen);
    };
    watcher.on('put', add('put'));
    watcher.on('delete', add('delete'));
    watcher.on('error', reject);
  });
}

describe('KV with the etcd3 client', () => {
  it('puts, gets and deletes a key', async () => {
    await client.put('basic/foo').value('bar');
    expect(await client.get('basic/foo').string()).toBe('bar');
    const deleted = await client.delete().key('basic/foo');
    expect(deleted.deleted).toBe('1');
    expect(await client.get('basic/foo').string()).toBeNull();
  });

  it('reads a prefix with a limit and a sort order, and a half-open range', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await client.put(`list/${name}`).value(name.toUpperCase());
    expect(await client.getAll().prefix('list/').keys()).toEqual([
      'list/a',
      'list/b',
      'list/c',
      'list/d',
      'list/e',
    ]);
    expect(await client.getAll().prefix('list/').limit(2).sort('Key', 'Descend').keys()).toEqual([
      'list/e',
      'list/d',
    ]);
    const limited = await client.getAll().prefix('list/').limit(2).exec();
    expect(limited.more).toBe(true);
    expect(limited.count).toBe('5');
    expect(await client.getAll().prefix('list/').count()).toBe(5);
    expect(await client.getAll().inRange({ start: 'list/b', end: 'list/d' }).strings()).toEqual({
      'list/b': 'B',
      'list/c': 'C',
    });
  });

  it('runs a txn down its else branch, then its then branch', async () => {
    await client.put('txn/key').value('start');
    const first = await client
      .if('txn/key', 'Value', '==', 'other')
      .then(client.put('txn/key').value('then'))
      .else(client.put('txn/key').value('else'), client.get('txn/key'))
      .commit();
    expect(first.succeeded).toBe(false);
    expect(await client.get('txn/key').string()).toBe('else');
    const second = await client
      .if('txn/key', 'Value', '==', 'else')
      .and('txn/key', 'Version', '>', 1)
      .then(client.put('txn/key').value('then'))
      .commit();
    expect(second.succeeded).toBe(true);
    expect(await client.get('txn/key').string()).toBe('then');
  });

  it('compacts, then refuses to read a compacted revision', async () => {
    const first = await client.put('compact/key').value('v1');
    await client.put('compact/key').value('v2');
    const third = await client.put('compact/key').value('v3');
    const firstRevision = first.header.revision;
    expect(await client.get('compact/key').revision(firstRevision).string()).toBe('v1');
    await client.kv.compact({ revision: third.header.revision });
    const error = await client
      .get('compact/key')
      .revision(firstRevision)
      .string()
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(GRPCOutOfRangeError);
    expect((error as Error).message).toContain('etcdserver: mvcc: required revision has been compacted');
    expect(await client.get('compact/key').string()).toBe('v3');
  });
});

describe('Watch with the etcd3 client', () => {
  it('delivers put and delete events with previous values, then cancels', async () => {
    const watcher = await client.watch().key('watch/one').withPreviousKV().create();
    const seen = events(watcher, 3);
    await client.put('watch/one').value('1');
    await client.put('watch/one').value('2');
    await client.delete().key('watch/one');
    const [created, updated, deleted] = await seen;
    expect(created?.type).toBe('put');
    expect(created?.kv.value.toString()).toBe('1');
    // An absent message field decodes as null.
    expect(created?.prev).toBeNull();
    expect(updated?.prev?.value.toString()).toBe('1');
    expect(deleted?.type).toBe('delete');
    expect(deleted?.prev?.value.toString()).toBe('2');
    // That the server drops a cancelled watcher is checked on the API layer (test/unit/api).
    await watcher.cancel();
  });

  it('replays history from a past revision on a prefix', async () => {
    const first = await client.put('watch/past/a').value('1');
    await client.put('watch/past/b').value('2');
    await client.delete().key('watch/past/a');
    const watcher = await client.watch().prefix('watch/past/').startRevision(first.header.revision).create();
    const replayed = await events(watcher, 3);
    expect(replayed.map((event) => `${event.type} ${event.kv.key.toString()}`)).toEqual([
      'put watch/past/a',
      'put watch/past/b',
      'delete watch/past/a',
    ]);
    await watcher.cancel();
  });

  it('reports an error for a watch that starts at a compacted revision', async () => {
    // One member for the compaction and the watch: the client otherwise picks a member per call,
    // and a member that has not applied the compaction yet rightly serves the watch (so does
    // etcd). A member answers a compaction only once it applied it itself.
    const oneMember = new Etcd3({ hosts: cluster.urls.slice(1, 2) });
    try {
      const first = await oneMember.put('watch/compacted').value('1');
      const second = await oneMember.put('watch/compacted').value('2');
      await oneMember.kv.compact({ revision: second.header.revision });
      const watcher = oneMember.watch().key('watch/compacted').startRevision(first.header.revision).watcher();
      const error = await new Promise<Error>((resolve, reject) => {
        watcher.on('error', resolve);
        watcher.on('put', () => reject(new Error('the watch was served from a compacted revision')));
      });
      expect(error.message).toContain('etcdserver: mvcc: required revision has been compacted');
    } finally {
      oneMember.close();
    }
  });
});

describe('Leases with the etcd3 client', () => {
  it('grants, attaches a key, keeps alive, reports TTL with keys, and revokes (deleting the key)', async () => {
    const lease = client.lease(30, { autoKeepAlive: false });
    const id = await lease.grant();
    await lease.put('lease/key').value('held');
    const stored = await client.get('lease/key').exec();
    expect(stored.kvs[0]?.lease).toBe(id);
    const refreshed = await lease.keepaliveOnce();
    expect(refreshed.TTL).toBe('30');
    const alive = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
    expect(alive.grantedTTL).toBe('30');
    expect(alive.keys.map((key) => key.toString())).toEqual(['lease/key']);
    await lease.revoke();
    expect(await client.get('lease/key').string()).toBeNull();
    const gone = await client.leaseClient.leaseTimeToLive({ ID: id, keys: false });
    expect(gone.TTL).toBe('-1');
  });

  it('expires a lease once its TTL passes, deleting its keys', async () => {
    const lease = client.lease(2, { autoKeepAlive: false });
    const id = await lease.grant();
    await lease.put('lease/expiring').value('soon');
    expect((await client.leaseClient.leaseLeases({})).leases.map((entry) => entry.ID)).toContain(id);
    await until(
      async () => (await client.get('lease/expiring').string()) === null,
      'the lease to expire',
      LEASE_EXPIRY_DEADLINE_MS,
    );
    expect((await client.leaseClient.leaseLeases({})).leases.map((entry) => entry.ID)).not.toContain(id);
    expect((await client.leaseClient.leaseTimeToLive({ ID: id, keys: false })).TTL).toBe('-1');
  });

  it('refuses a put with an unknown lease and reports a lost lease on keepalive', async () => {
    const error = await client
      .put('lease/none')
      .value('x')
      .lease('424242')
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(EtcdLeaseInvalidError);
    const lease = client.lease(5, { autoKeepAlive: false });
    const id = await lease.grant();
    await client.leaseClient.leaseRevoke({ ID: id });
    // The server answers TTL 0 for a lease it does not know; the client turns that into this error.
    await expect(lease.keepaliveOnce()).rejects.toBeInstanceOf(EtcdLeaseInvalidError);
  });
});

describe('Cluster and Maintenance with the etcd3 client', () => {
  it('lists the three members', async () => {
    const list = await client.cluster.memberList({});
    expect(list.members.map((member) => [member.ID, member.name]).sort()).toEqual(
      cluster.nodes.map((node) => [node.backend.memberId.toString(), node.config.name]).sort(),
    );
    expect(list.header.cluster_id).toBe(cluster.nodes[0]!.backend.clusterId.toString());
  });

  it("reports the leader's status with the current revision", async () => {
    const put = await client.put('status/key').value('x');
    const leader = await cluster.leader();
    const leaderOnly = new Etcd3({ hosts: `http://${cluster.address(leader)}` });
    try {
      const status = await leaderOnly.maintenance.status({});
      expect(status.header.revision).toBe(put.header.revision);
      expect(status.leader).toBe(leader.backend.memberId.toString());
      expect(status.raftTerm).toBe(String(leader.leaderInfo().term));
      expect(Number(status.dbSize)).toBeGreaterThan(0);
    } finally {
      leaderOnly.close();
    }
  });
});
