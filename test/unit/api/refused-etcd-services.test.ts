/**
 * A worker-style client port: `meshos.v1.Chains` served over a backend, etcd's six services
 * answered with UNIMPLEMENTED and a message naming the voters. Checked with the MeshOS client
 * (chains work; KV, lease, watch and status fail with the typed error at once, not retried) and
 * with plain gRPC (the status, the trailers, a streaming method refused too).
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientPortServer,
  chainsPortService,
  EtcdApiNotServedError,
  refusedEtcdServices,
  startClientPortServer,
} from '../../../src/api/index.js';
import { MeshClient, MeshClientError } from '../../../src/client/index.js';
import { silentLogger } from '../../../src/lib/node/index.js';
import { etcdProtoDefinition } from '../../../src/protocol/index.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';

const VOTERS = ['127.0.0.1:2379', '127.0.0.1:2479'];

let server: ClientPortServer;
let client: MeshClient;

beforeAll(async () => {
  server = await startClientPortServer({
    address: '127.0.0.1:0',
    services: [
      ...refusedEtcdServices(new EtcdApiNotServedError('node 9 is a worker', VOTERS)),
      chainsPortService(new FakeChainsBackend(), silentLogger),
    ],
  });
  client = await MeshClient.connect({ endpoints: [server.address], timeoutMs: 5_000 });
});

afterAll(async () => {
  client.close();
  await server.close();
});

describe('a client port without the etcd API', () => {
  it('serves chains', async () => {
    await client.chains.create('orders', { replicas: 1 });
    expect(await client.chains.append('orders', ['a', 'b'])).toMatchObject({ firstOffset: 0, lastOffset: 1 });
    const read = await client.chains.read('orders');
    expect(read.records.map((record) => Buffer.from(record.payload).toString())).toEqual(['a', 'b']);
    expect((await client.chains.status('orders')).name).toBe('orders');
  });

  it('refuses KV, lease and status calls with UNIMPLEMENTED naming the voters, without retrying', async () => {
    for (const attempt of [
      () => client.get('k'),
      () => client.put('k', 'v'),
      () => client.leaseGrant(5),
      () => client.status(server.address),
    ]) {
      const error = await attempt().then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(MeshClientError);
      expect((error as MeshClientError).code).toBe('UNIMPLEMENTED');
      expect((error as MeshClientError).retryable).toBe(false);
      expect((error as Error).message).toContain('node 9 is a worker');
      expect((error as Error).message).toContain(VOTERS.join(','));
    }
  });

  it('sends the status and the ETCD_API_NOT_SERVED trailer on unary and streaming methods', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: generated package object.
    const root = grpc.loadPackageDefinition(etcdProtoDefinition()) as any;
    const kv = new root.etcdserverpb.KV(server.address, grpc.credentials.createInsecure());
    const watch = new root.etcdserverpb.Watch(server.address, grpc.credentials.createInsecure());
    try {
      const unaryError = await new Promise<grpc.ServiceError>((resolve) =>
        kv.Range({ key: Buffer.from('k') }, (error: grpc.ServiceError) => resolve(error)),
      );
      const streamError = await new Promise<grpc.ServiceError>((resolve) => {
        const stream = watch.Watch();
        stream.on('data', () => undefined);
        stream.on('error', resolve);
        stream.write({ create_request: { key: Buffer.from('k') } });
      });
      for (const error of [unaryError, streamError]) {
        expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
        expect(error.details).toMatch(/node 9 is a worker.*served by the voters' client ports/);
        expect(error.metadata.get('meshos-error-code')).toEqual(['ETCD_API_NOT_SERVED']);
        expect(JSON.parse(String(error.metadata.get('meshos-error-details')[0]))).toEqual({
          servedBy: VOTERS,
        });
      }
    } finally {
      kv.close();
      watch.close();
    }
  });
});
