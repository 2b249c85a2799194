import * as grpc from '@grpc/grpc-js';
import { etcdServices } from '../../src/api/proto.js';

/** Minimal etcd v3 KV calls with a deadline, for the chaos test's clients. No retries: a
 * failed call is recorded as unknown (`info`), which is always safe for the checker. */
export class RawKvClient {
  private readonly client: grpc.Client;

  /** `ownConnection`: a connection of its own (grpc-js otherwise shares one per endpoint). */
  constructor(
    readonly endpoint: string,
    options: { readonly ownConnection?: boolean } = {},
  ) {
    const Constructor = grpc.makeGenericClientConstructor(etcdServices().kv, 'KV');
    this.client = new Constructor(
      endpoint,
      grpc.credentials.createInsecure(),
      options.ownConnection === true ? { 'grpc.use_local_subchannel_pool': 1 } : {},
    );
  }

  private call<T>(method: string, request: object, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = new Date(Date.now() + timeoutMs);
      type UnaryCall = (
        request: object,
        options: grpc.CallOptions,
        callback: (error: grpc.ServiceError | null, response: T) => void,
      ) => void;
      const invoke = (this.client as unknown as Record<string, UnaryCall>)[method]!.bind(this.client);
      invoke(request, { deadline }, (error: grpc.ServiceError | null, response: T) => {
        if (error) reject(error);
        else resolve(response);
      });
    });
  }

  async get(key: string, timeoutMs: number): Promise<string | null> {
    const response = await this.call<{ kvs: { value: Buffer }[] }>(
      'Range',
      { key: Buffer.from(key) },
      timeoutMs,
    );
    const first = response.kvs[0];
    return first === undefined ? null : first.value.toString('utf8');
  }

  async put(key: string, value: string, timeoutMs: number): Promise<void> {
    await this.call('Put', { key: Buffer.from(key), value: Buffer.from(value) }, timeoutMs);
  }

  /** Swaps `expected` (null: absent) for `value`; answers whether it swapped. */
  async cas(key: string, expected: string | null, value: string, timeoutMs: number): Promise<boolean> {
    const compare =
      expected === null
        ? { key: Buffer.from(key), target: 1, result: 0, create_revision: 0 }
        : { key: Buffer.from(key), target: 3, result: 0, value: Buffer.from(expected) };
    const response = await this.call<{ succeeded: boolean }>(
      'Txn',
      {
        compare: [compare],
        success: [{ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }],
        failure: [],
      },
      timeoutMs,
    );
    return response.succeeded;
  }

  close(): void {
    this.client.close();
  }
}
