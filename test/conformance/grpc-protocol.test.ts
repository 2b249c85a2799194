/**
 * The etcd wire protocol checked exactly with plain gRPC clients built from etcd's protos, against
 * the leader of a real three-node MeshOS cluster: status codes and messages, response headers,
 * watch stream details, the snapshot stream, keepalives, per-endpoint calls with a URL authority.
 * What needs a manual clock or the server's own bookkeeping is in test/unit/api/etcd-server.test.ts.
 */
import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES, MAX_TXN_OPERATIONS } from '../../src/kv/index.js';
import type { MeshNode } from '../../src/mesh/index.js';
import {
  call,
  failure,
  MessageQueue,
  openWatch,
  type RawClient,
  type RawClients,
  rawClients,
} from '../support/etcd-harness.js';
import { type ConformanceCluster, startConformanceCluster } from './cluster.js';

let cluster: ConformanceCluster;
/** The node every client here talks to: membership and snapshot answers come from the leader. */
let leader: MeshNode;
let clients: RawClients;

beforeAll(async () => {
  cluster = await startConformanceCluster('grpc-conformance');
  leader = await cluster.leader();
  clients = rawClients(cluster.address(leader));
});

afterAll(async () => {
  clients?.close();
  await cluster?.close();
});

const bytes = (text: string): Buffer => Buffer.from(text);

function put(key: string, value: string, extra: object = {}): Promise<RawClient> {
  return call(clients.kv, 'Put', { key: bytes(key), value: bytes(value), ...extra });
}

describe('response headers', () => {
  it('carry the 64-bit cluster id exactly, the member id, the revision and the term', async () => {
    const answer = await put('header/key', 'v');
    // Above 2^53, so a lossy conversion anywhere would show.
    expect(leader.backend.clusterId).toBeGreaterThan(2n ** 53n);
    expect(answer.header.cluster_id).toBe(leader.backend.clusterId.toString());
    expect(answer.header.member_id).toBe(leader.backend.memberId.toString());
    // The put's own revision: the mesh's services write too (proximity rows, registrations), so
    // the store's current revision may already be past it.
    const stored = await call(clients.kv, 'Range', { key: bytes('header/key') });
    expect(answer.header.revision).toBe(stored.kvs[0].mod_revision);
    expect(BigInt(answer.header.revision)).toBeLessThanOrEqual(BigInt(leader.backend.currentRevision()));
    expect(answer.header.raft_term).toBe(String(leader.leaderInfo().term));
  });
});

describe('errors carry etcd codes and messages', () => {
  const cases: { name: string; run: () => Promise<unknown>; code: status; message: string }[] = [
    {
      name: 'empty key',
      run: () => put('', 'v'),
      code: status.INVALID_ARGUMENT,
      message: 'etcdserver: key is not provided',
    },
    {
      name: 'future revision',
      run: () => call(clients.kv, 'Range', { key: bytes('a'), revision: 1_000_000 }),
      code: status.OUT_OF_RANGE,
      message: 'etcdserver: mvcc: required revision is a future revision',
    },
    {
      name: 'unknown lease on put',
      run: () => put('lease/unknown', 'v', { lease: 99_999 }),
      code: status.NOT_FOUND,
      message: 'etcdserver: requested lease not found',
    },
    {
      name: 'unknown lease on revoke',
      run: () => call(clients.lease, 'LeaseRevoke', { ID: 99_999 }),
      code: status.NOT_FOUND,
      message: 'etcdserver: requested lease not found',
    },
    {
      name: 'duplicate key in a txn',
      run: () =>
        call(clients.kv, 'Txn', {
          success: [
            { request_put: { key: bytes('dup'), value: bytes('1') } },
            { request_put: { key: bytes('dup'), value: bytes('2') } },
          ],
        }),
      code: status.INVALID_ARGUMENT,
      message: 'etcdserver: duplicate key given in txn request',
    },
    {
      name: 'too many txn operations',
      run: () =>
        call(clients.kv, 'Txn', {
          success: Array.from({ length: MAX_TXN_OPERATIONS + 1 }, (_, index) => ({
            request_range: { key: bytes(`many/${index}`) },
          })),
        }),
      code: status.INVALID_ARGUMENT,
      message: 'etcdserver: too many operations in txn request',
    },
    {
      name: 'request too large',
      run: () => put('big', 'x'.repeat(MAX_REQUEST_BYTES + 1)),
      code: status.INVALID_ARGUMENT,
      message: 'etcdserver: request is too large',
    },
    {
      name: 'ignore_value on a missing key',
      run: () => put('missing/key', '', { ignore_value: true }),
      code: status.INVALID_ARGUMENT,
      message: 'etcdserver: key not found',
    },
    {
      name: 'removing an unknown member',
      run: () => call(clients.cluster, 'MemberRemove', { ID: '12345' }),
      code: status.NOT_FOUND,
      message: 'etcdserver: member not found',
    },
    {
      name: 'authenticating without auth',
      run: () => call(clients.auth, 'Authenticate', { name: 'root', password: 'x' }),
      code: status.FAILED_PRECONDITION,
      message: 'etcdserver: authentication is not enabled',
    },
  ];
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const error = await failure(testCase.run());
      expect(error.code).toBe(testCase.code);
      expect(error.details).toBe(testCase.message);
    });
  }

  it('a compacted revision, for a read and for a second compaction', async () => {
    const first = await put('compact/a', '1');
    const second = await put('compact/a', '2');
    await call(clients.kv, 'Compact', { revision: second.header.revision });
    const read = await failure(
      call(clients.kv, 'Range', { key: bytes('compact/a'), revision: first.header.revision }),
    );
    expect([read.code, read.details]).toEqual([
      status.OUT_OF_RANGE,
      'etcdserver: mvcc: required revision has been compacted',
    ]);
    const again = await failure(call(clients.kv, 'Compact', { revision: first.header.revision }));
    expect(again.details).toBe('etcdserver: mvcc: required revision has been compacted');
  });

  it('unserved methods answer UNIMPLEMENTED', async () => {
    expect((await failure(call(clients.maintenance, 'Downgrade', {}))).code).toBe(status.UNIMPLEMENTED);
  });

  it('serves MemberUpdate and MoveLeader with etcd’s refusals for a bad member', async () => {
    const update = await failure(
      call(clients.cluster, 'MemberUpdate', { ID: '99', peerURLs: ['http://127.0.0.1:1'] }),
    );
    expect([update.code, update.details]).toEqual([status.NOT_FOUND, 'etcdserver: member not found']);
    const move = await failure(call(clients.maintenance, 'MoveLeader', { targetID: '99' }));
    expect([move.code, move.details]).toEqual([
      status.FAILED_PRECONDITION,
      'etcdserver: bad leader transferee',
    ]);
  });
});

describe('KV details', () => {
  it('answers a txn with nested responses and previous values', async () => {
    await put('txn/a', 'old');
    const answer = await call(clients.kv, 'Txn', {
      compare: [{ key: bytes('txn/a'), target: 'Version', result: 'Greater', version: 0 }],
      success: [
        { request_put: { key: bytes('txn/a'), value: bytes('new'), prev_kv: true } },
        { request_range: { key: bytes('txn/a') } },
        { request_delete_range: { key: bytes('txn/none') } },
      ],
    });
    expect(answer.succeeded).toBe(true);
    expect(answer.responses[0].response_put.prev_kv.value.toString()).toBe('old');
    expect(answer.responses[1].response_range.kvs[0].value.toString()).toBe('new');
    expect(answer.responses[2].response_delete_range.deleted).toBe('0');
  });

  it('sorts by a target other than the key and filters by revisions', async () => {
    await put('sort/b', '1');
    await put('sort/a', '2');
    const answer = await call(clients.kv, 'Range', {
      key: bytes('sort/'),
      range_end: bytes('sort0'),
      sort_target: 'Mod',
      sort_order: 'Descend',
    });
    expect(answer.kvs.map((kv: RawClient) => kv.key.toString())).toEqual(['sort/a', 'sort/b']);
    const newest = await call(clients.kv, 'Range', {
      key: bytes('sort/'),
      range_end: bytes('sort0'),
      min_mod_revision: answer.kvs[0].mod_revision,
    });
    expect(newest.kvs.map((kv: RawClient) => kv.key.toString())).toEqual(['sort/a']);
  });
});

describe('Watch stream', () => {
  it('numbers watches from 0, refuses a duplicate id and an empty range, and cancels on request', async () => {
    const { stream, responses } = openWatch(clients);
    stream.write({ create_request: { key: bytes('w/a') } });
    stream.write({ create_request: { key: bytes('w/b'), watch_id: 7 } });
    stream.write({ create_request: { key: bytes('w/c'), watch_id: 7 } });
    stream.write({ create_request: { key: bytes('w/z'), range_end: bytes('w/a') } });
    const [first, second, duplicate, empty] = await responses.atLeast(4);
    expect([first.created, first.watch_id]).toEqual([true, '0']);
    expect([second.created, second.watch_id]).toEqual([true, '7']);
    expect([duplicate.created, duplicate.canceled, duplicate.watch_id, duplicate.cancel_reason]).toEqual([
      true,
      true,
      '-1',
      'mvcc: duplicate watch ID provided on the WatchStream',
    ]);
    expect([empty.canceled, empty.cancel_reason]).toEqual([true, 'mvcc: watcher range is empty']);
    stream.write({ cancel_request: { watch_id: 7 } });
    const [canceled] = (await responses.atLeast(5)).slice(4);
    expect([canceled.watch_id, canceled.canceled, canceled.cancel_reason]).toEqual(['7', true, '']);
    await put('w/a', 'x');
    const [event] = (await responses.atLeast(6)).slice(5);
    expect(event.watch_id).toBe('0');
    expect(event.events[0].type).toBe('Put');
    expect(event.header.revision).toBe(event.events[0].kv.mod_revision);
    stream.end();
  });

  it('reports a compacted start revision with compact_revision', async () => {
    const first = await put('w/compacted', '1');
    const second = await put('w/compacted', '2');
    await call(clients.kv, 'Compact', { revision: second.header.revision });
    const { stream, responses } = openWatch(clients);
    stream.write({ create_request: { key: bytes('w/compacted'), start_revision: first.header.revision } });
    const [created, canceled] = await responses.atLeast(2);
    expect(created.created).toBe(true);
    expect(canceled.canceled).toBe(true);
    expect(canceled.compact_revision).toBe(second.header.revision);
    stream.end();
  });

  it('filters puts and answers progress requests', async () => {
    const { stream, responses } = openWatch(clients);
    stream.write({ create_request: { key: bytes('w/filtered'), filters: ['Noput'], progress_notify: true } });
    await responses.atLeast(1);
    await put('w/filtered', '1');
    await call(clients.kv, 'DeleteRange', { key: bytes('w/filtered') });
    const [, deleted] = await responses.atLeast(2);
    expect(deleted.events.map((event: RawClient) => event.type)).toEqual(['Delete']);
    stream.write({ progress_request: {} });
    const [, , progress] = await responses.atLeast(3);
    expect(progress.events).toEqual([]);
    expect(progress.header.revision).toBe(String(leader.backend.currentRevision()));
    expect([progress.watch_id, progress.canceled]).toEqual([deleted.watch_id, false]);
    stream.end();
  });

  it('waits for a future start revision before sending events', async () => {
    const { stream, responses } = openWatch(clients);
    const start = leader.backend.currentRevision() + 2;
    stream.write({ create_request: { key: bytes('w/future'), start_revision: start } });
    await responses.atLeast(1);
    await put('w/future', 'early');
    await put('w/future', 'on-time');
    const [, event] = await responses.atLeast(2);
    expect(event.events.map((change: RawClient) => change.kv.value.toString())).toEqual(['on-time']);
    stream.end();
  });
});

describe('Lease keepalive stream', () => {
  it('answers in order, with TTL 0 for an unknown lease', async () => {
    const granted = await call(clients.lease, 'LeaseGrant', { TTL: 20 });
    const stream = clients.lease.LeaseKeepAlive();
    const responses = new MessageQueue<RawClient>();
    stream.on('data', (response: RawClient) => responses.push(response));
    stream.write({ ID: granted.ID });
    stream.write({ ID: 424_242 });
    const [known, unknown] = await responses.atLeast(2);
    expect([known.ID, known.TTL]).toEqual([granted.ID, '20']);
    expect([unknown.ID, unknown.TTL]).toEqual(['424242', '0']);
    stream.end();
    // Gone before the snapshot case: an expiry there would change the state it compares.
    await call(clients.lease, 'LeaseRevoke', { ID: granted.ID });
  });
});

describe('Maintenance', () => {
  it('streams the backend snapshot followed by its SHA-256, with remaining_bytes counting down', async () => {
    for (let index = 0; index < 200; index++) await put(`snap/${index}`, 'v'.repeat(500));
    const expected = await leader.backend.snapshot();
    const stream = clients.maintenance.Snapshot({});
    const chunks: RawClient[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: RawClient) => chunks.push(chunk));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.at(-1)?.remaining_bytes).toBe('0');
    const whole = Buffer.concat(chunks.map((chunk) => chunk.blob));
    for (let index = 1; index < chunks.length; index++) {
      expect(Number(chunks[index - 1].remaining_bytes) - Number(chunks[index].remaining_bytes)).toBe(
        chunks[index].blob.length,
      );
    }
    // The data, zero bytes up to a multiple of 512 (etcdctl checks the length), then the SHA-256.
    const padded = whole.subarray(0, whole.length - 32);
    expect(padded.length % 512).toBe(0);
    expect(padded.length - expected.length).toBeLessThan(512);
    expect(padded.subarray(0, expected.length).equals(Buffer.from(expected))).toBe(true);
    expect(padded.subarray(expected.length).every((byte) => byte === 0)).toBe(true);
    expect(whole.subarray(whole.length - 32).equals(createHash('sha256').update(padded).digest())).toBe(true);
  });

  it('answers HashKV with the member’s hash and compact revision, Hash with the hash now', async () => {
    const first = await put('hash/a', '1');
    await put('hash/a', '2');
    await call(clients.kv, 'Compact', { revision: first.header.revision });
    const revision = Number((await put('hash/b', '3')).header.revision);
    const answer = await call(clients.maintenance, 'HashKV', { revision });
    const expected = await leader.backend.hashKv(revision);
    expect(answer.hash).toBe(expected.hash);
    expect(answer.compact_revision).toBe(String(first.header.revision));
    const compacted = await failure(call(clients.maintenance, 'HashKV', { revision: first.header.revision }));
    expect(compacted.details).toBe('etcdserver: mvcc: required revision has been compacted');
    const now = await call(clients.maintenance, 'Hash', {});
    expect(now.hash).toBe((await leader.backend.hashKv(Number(now.header.revision))).hash);
  });

  it('refuses AuthEnable without a root user, as etcd', async () => {
    const refused = await failure(call(clients.auth, 'AuthEnable', {}));
    expect([refused.code, refused.details]).toEqual([
      status.FAILED_PRECONDITION,
      'etcdserver: root user does not exist',
    ]);
  });

  it('answers Alarm with no alarms and AuthStatus as disabled', async () => {
    expect((await call(clients.maintenance, 'Alarm', { action: 'Get' })).alarms).toEqual([]);
    expect((await call(clients.auth, 'AuthStatus', {})).enabled).toBe(false);
  });
});

describe('a URL as the HTTP/2 authority, as clientv3 sends for per-endpoint calls', () => {
  it('is served on every node, call after call on one connection', async () => {
    for (const node of cluster.nodes) {
      const nodeAddress = cluster.address(node);
      const urlClients = rawClients(nodeAddress, {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.default_authority': `http://${nodeAddress}`,
      });
      try {
        const status = await call(urlClients.maintenance, 'Status', {});
        expect(status.header.member_id).toBe(node.backend.memberId.toString());
        expect(status.leader).toBe(leader.backend.memberId.toString());
        // Later header blocks on the connection refer to the client's HPACK table.
        for (const value of ['one', 'two', 'three']) {
          await call(urlClients.kv, 'Put', { key: bytes(`url/${node.config.id}`), value: bytes(value) });
        }
        const read = await call(urlClients.kv, 'Range', { key: bytes(`url/${node.config.id}`) });
        expect(read.kvs[0].value.toString()).toBe('three');
        expect(read.header.member_id).toBe(node.backend.memberId.toString());
      } finally {
        urlClients.close();
      }
    }
  });
});
