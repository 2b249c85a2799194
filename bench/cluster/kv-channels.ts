import * as grpc from '@grpc/grpc-js';
import { etcdServices } from '../../src/api/proto.js';

/** gRPC's default 4 MiB receive limit is plenty for single-key answers. */
const MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;

type UnaryMethod = (
  request: object,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;

/**
 * A fixed set of HTTP/2 channels to the etcd v3 KV service: `channelsPerEndpoint` for each
 * endpoint, each its own connection (local subchannel pool), shared by many clients.
 */
export class KvChannels {
  private readonly clients: grpc.Client[] = [];

  constructor(
    readonly endpoints: readonly string[],
    channelsPerEndpoint: number,
  ) {
    const Constructor = grpc.makeGenericClientConstructor(etcdServices().kv, 'KV');
    for (let copy = 0; copy < channelsPerEndpoint; copy++) {
      for (const endpoint of endpoints) {
        this.clients.push(
          new Constructor(endpoint, grpc.credentials.createInsecure(), {
            'grpc.use_local_subchannel_pool': 1,
            'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
            // Reconnect quickly after a member comes back, as a failover measurement needs.
            'grpc.initial_reconnect_backoff_ms': 50,
            'grpc.max_reconnect_backoff_ms': 200,
          }),
        );
      }
    }
  }

  get size(): number {
    return this.clients.length;
  }

  /** Endpoint served by channel `index` (channels cycle through the endpoints). */
  endpointOf(index: number): string {
    return this.endpoints[index % this.endpoints.length] ?? '';
  }

  /** One unary KV call (`Put`, `Range`, `Txn`, ...) on channel `index` with a deadline. */
  call<Response>(index: number, method: string, request: object, timeoutMs: number): Promise<Response> {
    const client = this.clients[index % this.clients.length];
    if (client === undefined) return Promise.reject(new Error('no channel'));
    const invoke = (client as unknown as Record<string, UnaryMethod>)[method];
    if (invoke === undefined) return Promise.reject(new Error(`no KV method ${method}`));
    return new Promise<Response>((resolve, reject) => {
      invoke.call(
        client,
        request,
        { deadline: new Date(Date.now() + timeoutMs) },
        (error: grpc.ServiceError | null, response: unknown) => {
          if (error) reject(error);
          else resolve(response as Response);
        },
      );
    });
  }

  close(): void {
    for (const client of this.clients) client.close();
  }
}
