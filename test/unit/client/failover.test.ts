import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bytesToText,
  MeshClient,
  NotLeaderError,
  TimeoutError,
  UnavailableError,
} from '../../../src/client/index.js';
import { isMeshError, type NodeId } from '../../../src/lib/index.js';
import { startTestNode, type TestNode } from './cluster-fixture.js';
import { type FakeNode, HEADER, startFakeNode } from './fake-node.js';

const PUT_OK = { kind: 'ok', response: { header: HEADER } } as const;
const NOT_LEADER = {
  kind: 'fail',
  code: grpc.status.UNAVAILABLE,
  message: 'etcdserver: not leader',
} as const;

describe('MeshClient failover and retries', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function node(memberId: NodeId): Promise<TestNode> {
    const started = await startTestNode({ memberId });
    cleanups.push(() => started.stop());
    return started;
  }

  async function fake(answer: Parameters<typeof startFakeNode>[0]): Promise<FakeNode> {
    const started = await startFakeNode(answer);
    cleanups.push(() => started.stop());
    return started;
  }

  async function valuesOf(server: TestNode, key: string): Promise<string[]> {
    const range = await server.backend.range({ type: 'range', key: new TextEncoder().encode(key) });
    return range.kvs.map((kv) => bytesToText(kv.value));
  }

  async function connect(options: Parameters<typeof MeshClient.connect>[0]): Promise<MeshClient> {
    const client = await MeshClient.connect(options);
    cleanups.push(() => client.close());
    return client;
  }

  it('moves to the second endpoint when the first one goes down', async () => {
    const first = await node(11);
    const second = await node(22);
    // Two single-node servers that each call themselves leader: with discovery on, which one the
    // client prefers would depend on whose Status answered within DISCOVERY_TIMEOUT_MS (on a
    // loaded machine, neither's may). Without it the client tries its endpoints in order, so the
    // first write lands on the first endpoint for certain; the failover is what is tested here.
    const client = await connect({ endpoints: [first.address, second.address], discoverLeader: false });
    await client.put('key', 'on-first');
    expect(await valuesOf(first, 'key')).toEqual(['on-first']);
    await first.stop();
    await client.put('key', 'on-second');
    expect(await valuesOf(second, 'key')).toEqual(['on-second']);
    expect(bytesToText((await client.get('key'))?.value ?? new Uint8Array())).toBe('on-second');
  });

  it('re-creates a watch on the next endpoint when its stream breaks', async () => {
    const first = await node(66);
    const second = await node(77);
    const client = await connect({ endpoints: [first.address, second.address] });
    const watch = await client.watch('watched');
    await first.stop();
    // The stream to the first node ended; this write lands on the second, where the watch now lives.
    await client.put('watched', 'after-failover');
    const next = await watch.next();
    expect(next.done).toBe(false);
    expect(next.value && bytesToText(next.value.kv.value)).toBe('after-failover');
    await watch.return();
  });

  it('skips an endpoint that is down from the start', async () => {
    const gone = await node(33);
    const goneAddress = gone.address;
    await gone.stop();
    const live = await node(44);
    const client = await connect({ endpoints: [goneAddress, live.address], discoverLeader: false });
    await client.put('key', 'value');
    expect((await client.get('key'))?.version).toBe(1);
  });

  it('follows "not leader" to the next endpoint, resending the same session sequence', async () => {
    const follower = await fake(() => NOT_LEADER);
    const leader = await fake(() => PUT_OK);
    const client = await connect({
      endpoints: [follower.address, leader.address],
      discoverLeader: false,
      clientId: 'client-under-test',
    });
    await client.put('key', 'value');
    await client.put('key', 'again');
    expect(follower.calls).toEqual([{ method: 'Put', clientId: 'client-under-test', sequence: '1' }]);
    expect(leader.calls).toEqual([
      { method: 'Put', clientId: 'client-under-test', sequence: '1' },
      { method: 'Put', clientId: 'client-under-test', sequence: '2' },
    ]);
    expect(client.writeCount).toBe(2);
  });

  it('puts concurrent writes on separate session lanes, one write in flight per lane', async () => {
    const server = await fake(() => PUT_OK);
    const client = await connect({ endpoints: [server.address], discoverLeader: false, clientId: 'lanes' });
    await Promise.all(Array.from({ length: 4 }, (_, index) => client.put(`key${index}`, 'value')));
    await client.put('key', 'after');
    const pairs = server.calls.map((call) => `${call.clientId}#${call.sequence}`);
    expect(pairs.slice(0, 4).sort()).toEqual(['lanes#1', 'lanes.1#1', 'lanes.2#1', 'lanes.3#1']);
    expect(pairs[4]).toBe('lanes#2');
  });

  it('gives up after the attempt bound with the last typed error', async () => {
    const follower = await fake(() => NOT_LEADER);
    const client = await connect({ endpoints: [follower.address], discoverLeader: false, maxAttempts: 3 });
    const failure = await client.put('key', 'value').catch((error) => error);
    expect(failure).toBeInstanceOf(NotLeaderError);
    expect(follower.calls.map((call) => call.sequence)).toEqual(['1', '1', '1']);
    const clientIds = new Set(follower.calls.map((call) => call.clientId));
    expect(clientIds).toEqual(new Set([client.clientId]));
  });

  it('sends no session on reads', async () => {
    const server = await fake(() => ({
      kind: 'ok',
      response: { header: HEADER, kvs: [], more: false, count: '0' },
    }));
    const client = await connect({ endpoints: [server.address], discoverLeader: false });
    expect(await client.get('key')).toBeUndefined();
    expect(server.calls).toEqual([{ method: 'Range', clientId: undefined, sequence: undefined }]);
  });

  it('fails with TIMEOUT when the node never answers', async () => {
    const silent = await fake(() => ({ kind: 'hang' }));
    const client = await connect({ endpoints: [silent.address], discoverLeader: false, timeoutMs: 300 });
    const failure = await client.get('key').catch((error) => error);
    expect(failure).toBeInstanceOf(TimeoutError);
    expect(isMeshError(failure, 'TIMEOUT')).toBe(true);
  });

  it('fails with UNAVAILABLE when no endpoint listens', async () => {
    const gone = await node(55);
    const goneAddress = gone.address;
    await gone.stop();
    const client = await connect({ endpoints: [goneAddress], maxAttempts: 2 });
    await expect(client.get('key')).rejects.toBeInstanceOf(UnavailableError);
  });

  it('finds the leader through Status when it is not the first endpoint', async () => {
    const statusOf = (memberId: string, leader: string) => ({
      kind: 'ok' as const,
      response: { header: { ...HEADER, member_id: memberId }, leader, raftTerm: '2', version: '3.5.0' },
    });
    const follower = await fake((method) => (method === 'Status' ? statusOf('1', '2') : NOT_LEADER));
    const leader = await fake((method) => (method === 'Status' ? statusOf('2', '2') : PUT_OK));
    const client = await connect({ endpoints: [follower.address, leader.address] });
    expect(client.endpoints.leader).toBe(leader.address);
    await client.put('key', 'value');
    expect(follower.calls.filter((call) => call.method === 'Put')).toHaveLength(0);
    expect(leader.calls.filter((call) => call.method === 'Put')).toHaveLength(1);
  });
});
