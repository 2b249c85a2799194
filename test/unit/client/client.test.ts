import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bytesToText,
  CompactedError,
  LeaseNotFoundError,
  MeshClient,
  op,
  SNAPSHOT_DIGEST_BYTES,
} from '../../../src/client/index.js';
import { isMeshError, ValidationError } from '../../../src/lib/index.js';
import { startTestNode, type TestNode } from './cluster-fixture.js';

const text = bytesToText;

describe('MeshClient against one node', () => {
  let node: TestNode;
  let client: MeshClient;

  beforeAll(async () => {
    node = await startTestNode();
    client = await MeshClient.connect({ endpoints: [node.address], timeoutMs: 5_000 });
  });

  afterAll(async () => {
    client.close();
    await node.stop();
  });

  it('finds the single node as leader', () => {
    expect(client.endpoints.leader).toBe(node.address);
  });

  it('puts and gets strings and bytes', async () => {
    const put = await client.put('alpha', 'one');
    expect(put.header.revision).toBeGreaterThan(0);
    const kv = await client.get('alpha');
    expect(kv && text(kv.value)).toBe('one');
    expect(kv?.version).toBe(1);
    expect(kv?.modRevision).toBe(put.header.revision);

    await client.put(new Uint8Array([0xff, 0x00]), new Uint8Array([1, 2, 3]));
    const binary = await client.get(new Uint8Array([0xff, 0x00]), { serializable: true });
    expect([...(binary?.value ?? [])]).toEqual([1, 2, 3]);
    expect(await client.get('missing')).toBeUndefined();
  });

  it('answers the previous value on put with prevKv, and reads old revisions', async () => {
    const first = await client.put('history', 'v1');
    const second = await client.put('history', 'v2', { prevKv: true });
    expect(second.prevKv && text(second.prevKv.value)).toBe('v1');
    const old = await client.get('history', { revision: first.header.revision });
    expect(old && text(old.value)).toBe('v1');
  });

  it('ranges over a prefix, with limits and counts', async () => {
    await client.put('fruit/apple', 'red');
    await client.put('fruit/banana', 'yellow');
    await client.put('fruit/cherry', 'dark');
    await client.put('fruits', 'not under the prefix');
    const all = await client.getPrefix('fruit/');
    expect(all.map((kv) => text(kv.key))).toEqual(['fruit/apple', 'fruit/banana', 'fruit/cherry']);
    const limited = await client.range('fruit/', { prefix: true, limit: 2 });
    expect(limited.kvs).toHaveLength(2);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(3);
    const ranged = await client.range('fruit/apple', { rangeEnd: 'fruit/c' });
    expect(ranged.kvs.map((kv) => text(kv.key))).toEqual(['fruit/apple', 'fruit/banana']);
    const descending = await client.range('fruit/', {
      prefix: true,
      sortOrder: 'descend',
      sortTarget: 'key',
    });
    expect(descending.kvs.map((kv) => text(kv.key))[0]).toBe('fruit/cherry');
  });

  it('deletes one key and a prefix', async () => {
    await client.put('gone/a', '1');
    await client.put('gone/b', '2');
    await client.put('gone/c', '3');
    const single = await client.delete('gone/a', { prevKv: true });
    expect(single.deleted).toBe(1);
    expect(single.prevKvs.map((kv) => text(kv.value))).toEqual(['1']);
    const ranged = await client.delete('gone/', { prefix: true });
    expect(ranged.deleted).toBe(2);
    expect(await client.getPrefix('gone/')).toHaveLength(0);
  });

  it('runs a transaction with both branches', async () => {
    await client.put('txn/key', 'start');
    const won = await client.txn({
      compare: [{ key: 'txn/key', target: 'value', operator: '=', operand: 'start' }],
      success: [op.put('txn/key', 'next'), op.get('txn/key')],
      failure: [op.get('txn/key')],
    });
    expect(won.succeeded).toBe(true);
    expect(won.responses.map((response) => response.type)).toEqual(['put', 'range']);
    const read = won.responses[1];
    expect(read?.type === 'range' && text(read.kvs[0]?.value ?? new Uint8Array())).toBe('next');

    const lost = await client
      .if('txn/key', 'value', '=', 'start')
      .and('txn/key', 'version', '>', 0)
      .then(op.put('txn/key', 'never'))
      .else(op.get('txn/key'), op.delete('txn/other'));
    expect(lost.succeeded).toBe(false);
    expect(lost.responses.map((response) => response.type)).toEqual(['range', 'delete']);
    const value = await client.get('txn/key');
    expect(value && text(value.value)).toBe('next');

    const created = await client.if('txn/fresh', 'create', '=', 0).then(op.put('txn/fresh', 'made')).commit();
    expect(created.succeeded).toBe(true);
    expect((await client.get('txn/fresh'))?.version).toBe(1);
  });

  it('compacts, after which old revisions fail with KV_COMPACTED', async () => {
    const first = await client.put('compact/key', 'a');
    await client.put('compact/key', 'b');
    const latest = await client.put('compact/key', 'c');
    await client.compact(latest.header.revision);
    const failure = await client
      .get('compact/key', { revision: first.header.revision })
      .catch((error) => error);
    expect(failure).toBeInstanceOf(CompactedError);
    expect(isMeshError(failure, 'KV_COMPACTED')).toBe(true);
    // The node creates the watch, then cancels it naming the compaction point.
    const watch = await client.watch('compact/key', { startRevision: first.header.revision });
    const watchFailure = await watch.next().catch((error) => error);
    expect(watchFailure).toBeInstanceOf(CompactedError);
    expect((watchFailure as CompactedError).compactRevision).toBe(latest.header.revision);
  });

  it('grants, refreshes, inspects and revokes a lease', async () => {
    const lease = await client.leaseGrant(60);
    expect(lease.ttlSeconds).toBe(60);
    await client.put('leased', 'value', { lease: lease.id });
    expect((await client.get('leased'))?.lease).toBe(lease.id);
    expect(await client.leases()).toContain(lease.id);
    const refreshed = await client.leaseKeepAliveOnce(lease.id);
    expect(refreshed.ttlSeconds).toBe(60);
    const ttl = await client.leaseTimeToLive(lease.id, { keys: true });
    expect(ttl.grantedTtlSeconds).toBe(60);
    expect(ttl.ttlSeconds).toBeGreaterThan(0);
    expect(ttl.keys.map(text)).toEqual(['leased']);
    await client.leaseRevoke(lease.id);
    expect(await client.get('leased')).toBeUndefined();
    expect((await client.leaseTimeToLive(lease.id)).ttlSeconds).toBe(-1);
    const revokeAgain = await client.leaseRevoke(lease.id).catch((error) => error);
    expect(revokeAgain).toBeInstanceOf(LeaseNotFoundError);
    expect((revokeAgain as LeaseNotFoundError).details.leaseId).toBe(lease.id);
    await expect(client.leaseKeepAliveOnce(lease.id)).rejects.toBeInstanceOf(LeaseNotFoundError);
  });

  it('lists, adds, promotes and removes members', async () => {
    const before = await client.members();
    expect(before).toHaveLength(1);
    expect(before[0]?.id).toBe(BigInt(node.backend.memberId));
    const added = await client.memberAdd('http://127.0.0.1:12380', { learner: true });
    expect(added.member.isLearner).toBe(true);
    expect(added.members).toHaveLength(2);
    const promoted = await client.memberPromote(added.member.id);
    expect(promoted.find((member) => member.id === added.member.id)?.isLearner).toBe(false);
    const duplicate = await client.memberAdd(['http://127.0.0.1:12380']).catch((error) => error);
    expect(isMeshError(duplicate, 'PEER_URL_EXISTS')).toBe(true);
    const after = await client.memberRemove(added.member.id);
    expect(after).toHaveLength(1);
    const missing = await client.memberRemove(added.member.id).catch((error) => error);
    expect(isMeshError(missing, 'MEMBER_NOT_FOUND')).toBe(true);
  });

  it('reports status, for the leader and for a named endpoint', async () => {
    const written = await client.put('status/key', 'x');
    const status = await client.status();
    expect(status.endpoint).toBe(node.address);
    expect(status.leaderId).toBe(BigInt(node.backend.memberId));
    expect(status.memberId).toBe(BigInt(node.backend.memberId));
    expect(status.revision).toBeGreaterThanOrEqual(written.header.revision);
    expect(status.raftAppliedIndex).toBeGreaterThan(0);
    const named = await client.status(`http://${node.address}`);
    expect(named.memberId).toBe(BigInt(node.backend.memberId));
    const all = await client.statusAll();
    expect(all.map((entry) => entry.status?.endpoint)).toEqual([node.address]);
  });

  it('downloads a snapshot whose digest checks out', async () => {
    const progress: number[] = [];
    const snapshot = await client.snapshot({ onProgress: (received) => progress.push(received) });
    const expected = await node.backend.snapshot();
    expect(snapshot.length).toBe(Math.ceil(expected.length / 512) * 512 + SNAPSHOT_DIGEST_BYTES);
    expect(Buffer.from(snapshot.subarray(0, expected.length)).equals(Buffer.from(expected))).toBe(true);
    expect(progress[progress.length - 1]).toBe(snapshot.length);
  });

  it('hands a snapshot to a sink chunk by chunk, each write awaited before the next', async () => {
    const events: string[] = [];
    const written: Uint8Array[] = [];
    let writing = false;
    const length = await client.snapshotTo({
      restart: async () => {
        events.push('restart');
      },
      write: async (chunk) => {
        expect(writing).toBe(false);
        writing = true;
        await new Promise((resolve) => setImmediate(resolve));
        written.push(chunk);
        writing = false;
      },
    });
    const whole = Buffer.concat(written);
    expect(events).toEqual(['restart']);
    expect(whole.length).toBe(length);
    const expected = await node.backend.snapshot();
    expect(whole.subarray(0, expected.length).equals(Buffer.from(expected))).toBe(true);
    expect(written.length).toBeGreaterThan(1);
  });

  it('refuses bad options with every problem listed', async () => {
    const failure = await MeshClient.connect({
      endpoints: ['no-port', 'ok:1'],
      timeoutMs: -1,
      maxAttempts: 0,
    }).catch((error) => error);
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as ValidationError).problems).toHaveLength(3);
  });

  it('refuses TLS options without a PEM CA, or with a certificate but no key', async () => {
    const failure = await MeshClient.connect({
      endpoints: ['ok:1'],
      tls: { caCertificatePem: 'not a certificate', certificatePem: '-----BEGIN CERTIFICATE-----' },
    }).catch((error) => error);
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as ValidationError).problems).toEqual([
      'tls.caCertificatePem: must be a PEM certificate',
      'tls: certificatePem and privateKeyPem go together',
    ]);
  });
});
