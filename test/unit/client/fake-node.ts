/**
 * A stand-in node for tests that need answers a real node does not give on demand (refusals, no
 * answer at all). It serves KV Put/Range and Maintenance Status from handlers the test supplies and
 * records the metadata of every call.
 */
import * as grpc from '@grpc/grpc-js';
import { etcdServiceDefinition } from '../../../src/client/index.js';

export interface RecordedCall {
  readonly method: string;
  readonly clientId: string | undefined;
  readonly sequence: string | undefined;
}

export type FakeAnswer =
  | { readonly kind: 'ok'; readonly response: unknown }
  | { readonly kind: 'fail'; readonly code: grpc.status; readonly message: string }
  | { readonly kind: 'hang' };

export interface FakeNode {
  readonly address: string;
  readonly calls: RecordedCall[];
  stop(): Promise<void>;
}

export const HEADER = { cluster_id: '1', member_id: '7', revision: '3', raft_term: '2' };

function first(metadata: grpc.Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return value === undefined ? undefined : String(value);
}

export async function startFakeNode(
  answer: (method: string, callIndex: number) => FakeAnswer,
): Promise<FakeNode> {
  const calls: RecordedCall[] = [];
  const hanging: Array<() => void> = [];
  const server = new grpc.Server();
  const handler =
    (method: string): grpc.handleUnaryCall<unknown, unknown> =>
    (call, callback) => {
      calls.push({
        method,
        clientId: first(call.metadata, 'meshos-client-id'),
        sequence: first(call.metadata, 'meshos-sequence'),
      });
      const decided = answer(method, calls.length - 1);
      if (decided.kind === 'ok') callback(null, decided.response);
      else if (decided.kind === 'fail') {
        callback({
          code: decided.code,
          details: decided.message,
          metadata: new grpc.Metadata(),
          name: '',
          message: decided.message,
        });
      } else
        hanging.push(() =>
          callback({ code: grpc.status.UNAVAILABLE, details: 'stopped', name: '', message: '' }),
        );
    };
  server.addService(etcdServiceDefinition('KV'), { Put: handler('Put'), Range: handler('Range') });
  server.addService(etcdServiceDefinition('Maintenance'), { Status: handler('Status') });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    );
  });
  return {
    address: `127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const release of hanging) release();
        server.forceShutdown();
        resolve();
      }),
  };
}
