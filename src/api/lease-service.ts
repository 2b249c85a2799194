/** The Lease service: grant, revoke, the keepalive stream, time-to-live and the lease list. */
import type * as grpc from '@grpc/grpc-js';
import { isMeshError, type Logger, MeshError } from '../lib/index.js';
import type { Int64In, Int64Out, PbLeaseKeepAliveResponse } from '../protocol/index.js';
import { leaseTimeToLiveToPb } from './convert-cluster.js';
import { responseHeader } from './convert-header.js';
import { int64ToNumber } from './convert-numbers.js';
import { toServiceError, unary, writable } from './grpc-call.js';
import type { KvBackend } from './kv-backend.js';
import { MAX_PENDING_KEEPALIVES_PER_STREAM } from './limits.js';
import { asCaller, callerOf } from './request-auth.js';
import { sessionFromMetadata } from './session-metadata.js';

type KeepAliveCall = grpc.ServerDuplexStream<{ ID: Int64In }, PbLeaseKeepAliveResponse<Int64Out>>;

/**
 * The Lease service's calls, and `close` to end its open keepalive streams (their clients
 * resume elsewhere) when the port closes, so the gRPC server's shutdown need not wait them out.
 */
export function leaseService(
  backend: KvBackend,
  logger: Logger,
): { implementation: grpc.UntypedServiceImplementation; close(): void } {
  const openStreams = new Set<() => void>();
  const implementation: grpc.UntypedServiceImplementation = {
    LeaseGrant: unary(
      'LeaseGrant',
      logger,
      async (request: { TTL: Int64In; ID: Int64In }, metadata, options) => {
        const result = await backend.execute(
          {
            type: 'leaseGrant',
            id: int64ToNumber('ID', request.ID),
            ttlSeconds: int64ToNumber('TTL', request.TTL),
          },
          sessionFromMetadata(metadata),
          asCaller(backend, metadata, options, 'LeaseGrant'),
        );
        return {
          header: responseHeader(backend, result.header.revision),
          ID: result.id,
          TTL: result.ttlSeconds,
          error: '',
        };
      },
    ),
    LeaseRevoke: unary('LeaseRevoke', logger, async (request: { ID: Int64In }, metadata, options) => {
      const result = await backend.execute(
        { type: 'leaseRevoke', id: int64ToNumber('ID', request.ID) },
        sessionFromMetadata(metadata),
        // Checked as it applies: write on every key attached to the lease, as etcd.
        asCaller(backend, metadata, options, 'LeaseRevoke'),
      );
      return { header: responseHeader(backend, result.header.revision) };
    }),
    LeaseKeepAlive: (call: KeepAliveCall) => serveKeepAlive(call, backend, logger, openStreams),
    LeaseTimeToLive: unary(
      'LeaseTimeToLive',
      logger,
      async (request: { ID: Int64In; keys: boolean }, metadata) => {
        callerOf(backend, metadata, 'LeaseTimeToLive');
        const answer = await backend.leaseTimeToLive(int64ToNumber('ID', request.ID), request.keys);
        return leaseTimeToLiveToPb(answer, responseHeader(backend));
      },
    ),
    LeaseLeases: unary('LeaseLeases', logger, async (_request, metadata) => {
      callerOf(backend, metadata, 'LeaseLeases');
      const leases = await backend.leaseList();
      return { header: responseHeader(backend), leases: leases.map((lease) => ({ ID: lease.id })) };
    }),
  };
  return {
    implementation,
    close: () => {
      for (const end of [...openStreams]) end();
    },
  };
}

/**
 * Answers keepalives one at a time, in order. As in etcd, a lease that does not exist is answered
 * with TTL 0 rather than an error; any other failure ends the stream with its status.
 */
function serveKeepAlive(
  call: KeepAliveCall,
  backend: KvBackend,
  logger: Logger,
  openStreams: Set<() => void>,
): void {
  const pending: Int64In[] = [];
  let running = false;
  let ended = false;
  let closed = false;
  let signalClosed: () => void = () => {};
  const closedSignal = new Promise<void>((resolve) => {
    signalClosed = resolve;
  });
  const close = (): void => {
    closed = true;
    openStreams.delete(end);
    signalClosed();
  };
  /** The port is closing: answers nothing more and ends the stream. */
  const end = (): void => {
    if (closed) return;
    close();
    call.end();
  };
  openStreams.add(end);
  const fail = (error: unknown): void => {
    if (closed) return;
    close();
    call.emit('error', toServiceError(error, logger, 'LeaseKeepAlive'));
  };

  const drain = async (): Promise<void> => {
    running = true;
    while (!closed) {
      const next = pending.shift();
      if (next === undefined) break;
      const id = int64ToNumber('ID', next);
      let ttlSeconds: number;
      try {
        ttlSeconds = await backend.leaseKeepAlive(id);
      } catch (error) {
        if (!isMeshError(error, 'KV_LEASE_NOT_FOUND')) throw error;
        ttlSeconds = 0;
      }
      if (closed) break;
      if (!call.write({ header: responseHeader(backend), ID: id, TTL: ttlSeconds })) {
        await writable(call, closedSignal);
      }
    }
    running = false;
    if (ended && !closed) {
      close();
      call.end();
    }
  };

  call.on('data', (request: { ID: Int64In }) => {
    if (closed) return;
    if (pending.length >= MAX_PENDING_KEEPALIVES_PER_STREAM) {
      fail(
        new MeshError(
          'TOO_MANY_REQUESTS',
          `more than ${MAX_PENDING_KEEPALIVES_PER_STREAM} keepalives are waiting`,
        ),
      );
      return;
    }
    pending.push(request.ID);
    if (!running) drain().catch(fail);
  });
  // The client half-closed: answer what it sent, then end.
  call.on('end', () => {
    ended = true;
    if (closed || running) return;
    close();
    call.end();
  });
  call.on('error', close);
  call.on('cancelled', close);
  call.on('close', close);
}
