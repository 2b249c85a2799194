/**
 * etcd's six services on a port that does not serve them (a worker's client port): every call,
 * unary or streaming, fails at once with UNIMPLEMENTED, a message saying where they are served,
 * and the `ETCD_API_NOT_SERVED` code in the trailers. Without these, grpc-js would answer
 * UNIMPLEMENTED too, but with a message that does not say where to go instead.
 */
import * as grpc from '@grpc/grpc-js';
import { MeshError } from '../lib/index.js';
import { detailsTrailerText, ERROR_CODE_TRAILER, ERROR_DETAILS_TRAILER } from '../protocol/index.js';
import type { ClientPortService } from './client-port-server.js';
import { type EtcdServices, etcdServices } from './proto.js';

/** An etcd API call on a node that does not serve the etcd API; `servedBy` says which nodes do. */
export class EtcdApiNotServedError extends MeshError {
  constructor(reason: string, servedBy: readonly string[]) {
    super(
      'ETCD_API_NOT_SERVED',
      `${reason}; the etcd KV, Watch, Lease, Cluster, Maintenance and Auth services are served by the voters' client ports (${servedBy.join(',')})`,
      { details: { servedBy } },
    );
  }
}

/** etcd's services, each method failing with `error` but those `served` implements (by service). */
export function refusedEtcdServices(
  error: EtcdApiNotServedError,
  served: Partial<Record<keyof EtcdServices, grpc.UntypedServiceImplementation>> = {},
): ClientPortService[] {
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_TRAILER, error.code);
  metadata.set(ERROR_DETAILS_TRAILER, detailsTrailerText(error.details));
  const status = (): grpc.ServiceError =>
    Object.assign(new Error(error.message), {
      code: grpc.status.UNIMPLEMENTED,
      details: error.message,
      metadata: metadata.clone(),
    });
  return Object.entries(etcdServices()).map(([service, definition]: [string, grpc.ServiceDefinition]) => {
    const implementation: grpc.UntypedServiceImplementation = {};
    const own = served[service as keyof EtcdServices] ?? {};
    for (const [method, shape] of Object.entries(definition)) {
      implementation[method] =
        own[method] ??
        (shape.responseStream
          ? (call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', status())
          : (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(status()));
    }
    return { definition, implementation };
  });
}
