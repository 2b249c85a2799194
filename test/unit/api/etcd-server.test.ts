/**
 * The etcd API layer over the test double, for what a real cluster cannot show: time driven by a
 * manual clock (periodic watch progress), the server's own bookkeeping (watchers dropped on
 * cancel, which connections the client port hands over natively), and the membership calls'
 * request and answer shapes on a member list that nothing else depends on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  failure,
  type LocalEtcd,
  openWatch,
  type RawClient,
  type RawClients,
  rawClients,
  startLocalEtcd,
} from '../../support/etcd-harness.js';
import { until } from '../../support/until.js';

const PROGRESS_INTERVAL_MS = 60_000;

let etcd: LocalEtcd;
let clients: RawClients;

beforeAll(async () => {
  etcd = await startLocalEtcd({ progressNotifyIntervalMs: PROGRESS_INTERVAL_MS });
  clients = rawClients(etcd.server.address);
});

afterAll(async () => {
  clients.close();
  await etcd.close();
});

const bytes = (text: string): Buffer => Buffer.from(text);

describe('watch streams', () => {
  it('send progress_notify to a watch that stayed idle for a whole interval', async () => {
    const { stream, responses } = openWatch(clients);
    stream.write({ create_request: { key: bytes('idle'), progress_notify: true } });
    const [created] = await responses.atLeast(1);
    // The first tick only marks the watch as idle for an interval; the second reports it.
    etcd.clock.advance(PROGRESS_INTERVAL_MS);
    etcd.clock.advance(PROGRESS_INTERVAL_MS);
    const [, notified] = await responses.atLeast(2);
    expect([notified.watch_id, notified.events.length, notified.canceled]).toEqual([
      created.watch_id,
      0,
      false,
    ]);
    expect(notified.header.revision).toBe(String(etcd.backend.currentRevision()));
    stream.end();
  });

  it('drop the server-side watcher when the client cancels it', async () => {
    // Streams other cases ended are closed asynchronously: start from none.
    await until(() => etcd.backend.watchHub.stats.watchers === 0, 'earlier watch streams to close');
    const { stream, responses } = openWatch(clients);
    stream.write({ create_request: { key: bytes('cancelled') } });
    const [created] = await responses.atLeast(1);
    expect(etcd.backend.watchHub.stats.watchers).toBe(1);
    stream.write({ cancel_request: { watch_id: created.watch_id } });
    await responses.atLeast(2);
    expect(etcd.backend.watchHub.stats.watchers).toBe(0);
    stream.end();
  });
});

describe('the client port', () => {
  // A channel of its own, so each case opens a new connection to the port.
  const ownConnection = { 'grpc.use_local_subchannel_pool': 1 };

  it('rewrites the header blocks of connections that send a URL as the authority', async () => {
    const before = { ...etcd.server.connections };
    const urlClients = rawClients(etcd.server.address, {
      ...ownConnection,
      'grpc.default_authority': `http://${etcd.server.address}`,
    });
    try {
      expect((await call(urlClients.maintenance, 'Status', {})).header.member_id).toBe(
        etcd.backend.memberId.toString(),
      );
      await call(urlClients.kv, 'Put', { key: bytes('url/key'), value: bytes('v') });
    } finally {
      urlClients.close();
    }
    // Two connections: the Maintenance and the KV client each have their own channel. MeshOS's
    // own HTTP/2 takes such authorities itself: nothing to repair.
    expect(etcd.server.connections).toEqual(
      (process.env.MESHOS_CLIENT_PORT_SERVER ?? 'meshos') === 'meshos'
        ? { native: before.native + 2, repaired: before.repaired }
        : { native: before.native, repaired: before.repaired + 2 },
    );
  });

  it('hands connections with a plain authority to the native HTTP/2 path', async () => {
    const before = { ...etcd.server.connections };
    const plain = rawClients(etcd.server.address, ownConnection);
    try {
      await call(plain.maintenance, 'Status', {});
    } finally {
      plain.close();
    }
    expect(etcd.server.connections).toEqual({ native: before.native + 1, repaired: before.repaired });
  });
});

describe('Cluster membership calls', () => {
  it('add a learner, promote it, and remove it, with etcd refusals between', async () => {
    const added = await call(clients.cluster, 'MemberAdd', {
      peerURLs: ['http://127.0.0.1:23800'],
      isLearner: true,
    });
    expect(added.member.isLearner).toBe(true);
    expect(added.members).toHaveLength(2);
    const refused = await failure(
      call(clients.cluster, 'MemberPromote', { ID: etcd.backend.memberId.toString() }),
    );
    expect(refused.details).toBe('etcdserver: can only promote a learner member');
    const promoted = await call(clients.cluster, 'MemberPromote', { ID: added.member.ID });
    expect(promoted.members.find((member: RawClient) => member.ID === added.member.ID).isLearner).toBe(false);
    const clash = await failure(call(clients.cluster, 'MemberAdd', { peerURLs: ['http://127.0.0.1:23800'] }));
    expect(clash.details).toBe('etcdserver: Peer URLs already exists');
    const removed = await call(clients.cluster, 'MemberRemove', { ID: added.member.ID });
    expect(removed.members).toHaveLength(1);
  });
});
