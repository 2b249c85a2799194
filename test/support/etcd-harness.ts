/**
 * The etcd API over the test double (`LocalKvBackend`) on 127.0.0.1 with a manual clock, for API-layer
 * tests that drive time; and plain gRPC clients built from etcd's protos, for checking the wire exactly.
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  type ChainsBackend,
  type ClientPortTls,
  type DaemonsBackend,
  type EtcdApiServer,
  startEtcdApiServer,
} from '../../src/api/index.js';
import type { MeshClientError } from '../../src/client/index.js';
import { ManualClock } from '../../src/lib/index.js';
import type { GrpcServices } from '../../src/protocol/index.js';
import { LocalKvBackend, type LocalKvBackendOptions } from './local-kv-backend.js';

export interface LocalEtcd {
  readonly backend: LocalKvBackend;
  readonly server: EtcdApiServer;
  readonly clock: ManualClock;
  close(): Promise<void>;
}

export async function startLocalEtcd(
  options: Omit<LocalKvBackendOptions, 'clock'> & {
    progressNotifyIntervalMs?: number;
    chains?: ChainsBackend;
    daemons?: DaemonsBackend;
    tls?: ClientPortTls;
  } = {},
): Promise<LocalEtcd> {
  const clock = new ManualClock();
  const { progressNotifyIntervalMs, chains, daemons, tls, ...backendOptions } = options;
  const backend = new LocalKvBackend({ clock, ...backendOptions });
  const server = await startEtcdApiServer({
    address: '127.0.0.1:0',
    backend,
    clock,
    ...(progressNotifyIntervalMs === undefined ? {} : { progressNotifyIntervalMs }),
    ...(chains === undefined ? {} : { chains }),
    ...(daemons === undefined ? {} : { daemons }),
    ...(tls === undefined ? {} : { tls }),
  });
  return {
    backend,
    server,
    clock,
    async close() {
      await server.close();
      backend.close();
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: generated gRPC clients are untyped.
export type RawClient = any;

export interface RawClients {
  readonly kv: RawClient;
  readonly watch: RawClient;
  readonly lease: RawClient;
  readonly cluster: RawClient;
  readonly maintenance: RawClient;
  readonly auth: RawClient;
  close(): void;
}

/** Plain gRPC clients from etcd's protos, for checking codes, messages and stream details exactly. */
export function rawClients(
  address: string,
  options: grpc.ChannelOptions = {},
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): RawClients {
  const definition = protoLoader.loadSync(createRequire(import.meta.url).resolve('etcd3/proto/rpc.proto'), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  // biome-ignore lint/suspicious/noExplicitAny: generated package object.
  const root = grpc.loadPackageDefinition(definition).etcdserverpb as any;
  const clients = {
    kv: new root.KV(address, credentials, options),
    watch: new root.Watch(address, credentials, options),
    lease: new root.Lease(address, credentials, options),
    cluster: new root.Cluster(address, credentials, options),
    maintenance: new root.Maintenance(address, credentials, options),
    auth: new root.Auth(address, credentials, options),
  };
  return {
    ...clients,
    close() {
      for (const client of Object.values(clients)) client.close();
    },
  };
}

/** A plain gRPC client of one of MeshOS's own services (`meshos.v1.<service>`), to check the wire exactly. */
export function rawMeshosClient(
  address: string,
  definition: GrpcServices,
  service: 'Chains' | 'Daemons',
): RawClient {
  // biome-ignore lint/suspicious/noExplicitAny: generated package object.
  const root = grpc.loadPackageDefinition(definition) as any;
  return new root.meshos.v1[service](address, grpc.credentials.createInsecure());
}

/** Calls a unary method and resolves with its response or its gRPC error. */
export function call<Response = RawClient>(
  client: RawClient,
  method: string,
  request: object,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    client[method](request, (error: grpc.ServiceError | null, response: Response) => {
      if (error === null) resolve(response);
      else reject(error);
    });
  });
}

/** Resolves with the error of a call that must fail: a gRPC error, unless the caller names another type. */
export async function failure<Failure = grpc.ServiceError>(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  throw new Error('expected the call to fail');
}

/** Resolves with the typed error of a `MeshClient` call that must fail. */
export const rejection = (promise: Promise<unknown>): Promise<MeshClientError> =>
  failure<MeshClientError>(promise);

/** Collects stream messages and lets a test wait for the n-th one. */
export class MessageQueue<Message> {
  private readonly messages: Message[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  push(message: Message): void {
    this.messages.push(message);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.messages.length >= waiter.count) waiter.resolve();
      return this.messages.length < waiter.count;
    });
  }

  get all(): readonly Message[] {
    return this.messages;
  }

  /** Waits until `count` messages arrived in total, then returns them all. */
  async atLeast(count: number): Promise<readonly Message[]> {
    if (this.messages.length < count) {
      await new Promise<void>((resolve) => this.waiters.push({ count, resolve }));
    }
    return this.messages;
  }
}

/** Opens a Watch stream whose responses collect in a queue (stream errors are the test's to assert). */
export function openWatch(clients: RawClients): { stream: RawClient; responses: MessageQueue<RawClient> } {
  const stream = clients.watch.Watch();
  const responses = new MessageQueue<RawClient>();
  stream.on('data', (response: RawClient) => responses.push(response));
  stream.on('error', () => {});
  return { stream, responses };
}
