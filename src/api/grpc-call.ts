/** Small adapters between promise-returning handlers and grpc-js call objects. */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../lib/index.js';
import { grpcFailureOf } from './error-map.js';
import type { RequestMetadata } from './grpc-server/index.js';
import type { RequestOptions } from './kv-backend.js';

/** The error object grpc-js sends as a status: etcd's code and message. */
export function toServiceError(error: unknown, logger: Logger, method: string): grpc.ServiceError {
  const failure = grpcFailureOf(error);
  if (failure.code === grpc.status.INTERNAL)
    logger.error({ err: error, method }, 'etcd api: unexpected error');
  else logger.debug({ err: error, method, code: failure.code }, 'etcd api: request failed');
  return Object.assign(new Error(failure.message), {
    code: failure.code,
    details: failure.message,
    metadata: new grpc.Metadata(),
  });
}

/**
 * The call's deadline (the client's `grpc-timeout`) as milliseconds from now; none when the
 * client set none. grpc-js gives a wall-clock date, or a number of epoch milliseconds.
 */
export function requestOptionsOf(call: { getDeadline(): grpc.Deadline }): RequestOptions {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  // User '' until the API layer names one: a client's request, never the node's own (see asCaller).
  if (!Number.isFinite(deadlineMs)) return { user: '' };
  return { timeoutMs: deadlineMs - Date.now(), user: '' };
}

/** How a service turns a failure into the status it sends. */
export type ServiceErrorOf = (error: unknown, logger: Logger, method: string) => grpc.ServiceError;

/** A unary method from an async function of the request; failures are sent as `errorOf` says. */
export function unary<Request, Response>(
  method: string,
  logger: Logger,
  handler: (request: Request, metadata: RequestMetadata, options: RequestOptions) => Promise<Response>,
  errorOf: ServiceErrorOf = toServiceError,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    let answer: Promise<Response>;
    try {
      answer = handler(call.request, call.metadata, requestOptionsOf(call));
    } catch (error) {
      callback(errorOf(error, logger, method));
      return;
    }
    answer.then(
      (response) => callback(null, response),
      (error: unknown) => callback(errorOf(error, logger, method)),
    );
  };
}

/**
 * A service's maker of unary methods whose handlers take the request, the call's timeout (ms,
 * none without a client deadline) and its metadata; every failure is sent as `errorOf` says.
 */
export function unaryWithTimeout(logger: Logger, errorOf: ServiceErrorOf) {
  return <Request, Response>(
    method: string,
    handler: (
      request: Request,
      timeoutMs: number | undefined,
      metadata: RequestMetadata,
    ) => Promise<Response>,
  ): grpc.handleUnaryCall<Request, Response> =>
    unary<Request, Response>(
      method,
      logger,
      (request, metadata, options) => handler(request, options.timeoutMs, metadata),
      errorOf,
    );
}

/** Resolves when the stream can take more writes, or when it is closed (whichever comes first). */
export function writable(stream: NodeJS.EventEmitter, closed: Promise<void>): Promise<void> {
  return Promise.race([
    new Promise<void>((resolve) => {
      stream.once('drain', resolve);
    }),
    closed,
  ]);
}

/**
 * Serves a server-streaming call with `write`, whose signal aborts when the client cancels the
 * call or the server aborts the call's controller in `open` (to end every stream when it
 * closes). A clean return ends the call; a failure ends it with the status `errorOf` makes;
 * a client that cancelled is sent nothing more.
 */
export function serveStream(
  call: grpc.ServerWritableStream<unknown, unknown>,
  open: Set<AbortController>,
  failure: { readonly logger: Logger; readonly method: string; readonly errorOf: ServiceErrorOf },
  write: (signal: AbortSignal) => Promise<void>,
): void {
  const controller = new AbortController();
  let cancelledByClient = false;
  open.add(controller);
  call.once('cancelled', () => {
    cancelledByClient = true;
    controller.abort();
  });
  write(controller.signal)
    .then(
      () => {
        if (!cancelledByClient) call.end();
      },
      (error: unknown) => {
        if (!cancelledByClient) call.emit('error', failure.errorOf(error, failure.logger, failure.method));
      },
    )
    .finally(() => {
      open.delete(controller);
      controller.abort();
    });
}
