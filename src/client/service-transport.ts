/** What a client of one of MeshOS's own services (`client.chains`, `client.daemons`) needs from `MeshClient`. */
import * as grpc from '@grpc/grpc-js';
import type { Clock, Random } from '../lib/index.js';
import type { EndpointConnection, ServiceName } from './endpoint.js';
import { MeshClientError, TimeoutError } from './errors.js';
import type { CallOptions } from './types.js';

/** The client's retry loop, its endpoints, time and chance. */
export interface ServiceTransport {
  /** Runs `attempt` with failover and backoff while its typed error is `retryable`. */
  call<T>(
    label: string,
    options: CallOptions,
    attempt: (connection: EndpointConnection, deadline: Date) => Promise<T>,
  ): Promise<T>;
  /** The endpoint to try next, and its connection. */
  pick(): EndpointConnection;
  /** `address` failed: prefer another one next. */
  failed(address: string): void;
  checkOpen(): void;
  readonly clock: Clock;
  readonly random: Random;
  readonly maxAttempts: number;
}

/** One unary call: which service and method, and how a failure is typed (its `retryable` decides a new attempt). */
export interface ServiceUnaryCall {
  readonly service: ServiceName;
  readonly method: string;
  readonly request: object;
  readonly errorOf: (error: unknown, address: string) => MeshClientError;
  /** The call changes something (a read is false). */
  readonly changes: boolean;
}

/**
 * Runs `attempt` through the client's retry loop. When the budget runs out between retries of a
 * call that `changes` something, every attempt failed in a way its error called safe to repeat,
 * so the last one's error is thrown: it says more than a bare TIMEOUT (which reads as "maybe").
 */
export async function serviceCall<T>(
  transport: ServiceTransport,
  label: string,
  changes: boolean,
  options: CallOptions,
  attempt: (connection: EndpointConnection, deadline: Date) => Promise<T>,
): Promise<T> {
  try {
    return await transport.call(label, options, attempt);
  } catch (error) {
    if (error instanceof TimeoutError && error.cause instanceof MeshClientError && changes) throw error.cause;
    throw error;
  }
}

/** One unary call through the client's retry loop (`serviceCall`), its failures typed by `errorOf`. */
export function serviceUnary<Response>(
  transport: ServiceTransport,
  call: ServiceUnaryCall,
  options: CallOptions,
): Promise<Response> {
  return serviceCall(
    transport,
    `${call.service}.${call.method}`,
    call.changes,
    options,
    (connection, deadline) => unaryOn<Response>(connection, call, deadline),
  );
}

/** One attempt of a unary call on `connection`, its failure typed by `call.errorOf`. */
export async function unaryOn<Response>(
  connection: EndpointConnection,
  call: ServiceUnaryCall,
  deadline: Date,
): Promise<Response> {
  try {
    return await connection.unary<Response>(
      call.service,
      call.method,
      call.request,
      new grpc.Metadata(),
      deadline,
    );
  } catch (error) {
    throw call.errorOf(error, connection.address);
  }
}
