/**
 * A request that meets no leader waits for one until shortly before its client's gRPC deadline
 * (`grpc-timeout`), then answers `no leader` (safe to retry), instead of a fixed 5 s that outlives
 * a short deadline (the client then sees DEADLINE_EXCEEDED, outcome unknown).
 */
import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { type EtcdApiServer, startEtcdApiServer } from '../../../src/api/index.js';
import { isMeshError } from '../../../src/lib/index.js';
import { type RawClients, rawClients } from '../../support/etcd-harness.js';
import { KvCluster } from './kv-cluster.js';
import { track } from './promise-state.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** A three-node cluster whose follower is cut off from both others: it has no leader and gets none. */
async function followerWithoutLeader(cluster: KvCluster) {
  await cluster.start();
  const leader = await cluster.waitForLeader();
  const follower = [...cluster.nodes.values()].find((entry) => entry.id !== leader.id)!;
  const backend = cluster.backend(follower);
  for (const entry of cluster.nodes.values())
    if (entry.id !== follower.id) cluster.links.isolated.add(entry.id);
  const deadline = Date.now() + 10_000;
  while (follower.node.leaderInfo().leaderId !== 0) {
    if (Date.now() > deadline) throw new Error('the follower kept its leader');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return backend;
}

describe('a request without a leader waits until its deadline', () => {
  let cluster: KvCluster | undefined;
  let server: EtcdApiServer | undefined;
  let clients: RawClients | undefined;
  afterEach(async () => {
    clients?.close();
    await server?.close();
    await cluster?.stop();
    cluster = undefined;
    server = undefined;
    clients = undefined;
  });

  it('refuses a write with a short deadline as no leader while one without a deadline still waits', async () => {
    cluster = new KvCluster([1, 2, 3], { forwarding: true });
    const backend = await followerWithoutLeader(cluster);
    const patient = track(backend.execute({ type: 'put', key: bytes('patient'), value: bytes('1') }));
    const hurried = backend.execute({ type: 'put', key: bytes('hurried'), value: bytes('1') }, undefined, {
      timeoutMs: 300,
    });
    const error = await hurried.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(isMeshError(error, 'NOT_LEADER')).toBe(true);
    // The default wait (5 s) is far from over.
    expect(patient.outcome).toBe('pending');
  });

  it('reads the deadline from the gRPC call: the client gets no leader (UNAVAILABLE), not DEADLINE_EXCEEDED', async () => {
    cluster = new KvCluster([1, 2, 3], { forwarding: true });
    const backend = await followerWithoutLeader(cluster);
    server = await startEtcdApiServer({ address: '127.0.0.1:0', backend, clock: cluster.clock });
    clients = rawClients(server.address);
    const kv = clients.kv;
    const error = await new Promise<grpc.ServiceError>((resolve, reject) => {
      kv.Put(
        { key: Buffer.from('k'), value: Buffer.from('v') },
        // Long enough that the answer's margin before the deadline (a tenth of it) outlasts a
        // loaded machine's late timers: with 3 s (300 ms) a CI run under load saw the deadline pass.
        { deadline: new Date(Date.now() + 8_000) },
        (failure: grpc.ServiceError | null) =>
          failure === null ? reject(new Error('put succeeded')) : resolve(failure),
      );
    });
    expect(error.details).toBe('etcdserver: no leader');
  });
});
