/**
 * The etcd v3 gRPC API over a `KvBackend`: KV, Watch, Lease, Cluster, Maintenance and Auth on one
 * insecure HTTP/2 port. Every answer's header carries the backend's cluster id, member id, revision
 * and Raft term; every failure carries etcd's gRPC code and message.
 */
import * as grpc from '@grpc/grpc-js';
import { assert, type Clock, type Logger, SystemClock, type TimerId } from '../lib/index.js';
import { silentLogger } from '../lib/node/index.js';
import { authService } from './auth-service.js';
import type { ChainsBackend } from './chains-backend.js';
import { type ChainsServiceHandle, chainsService } from './chains-service.js';
import { type ClientPortCounters, listenClientPort } from './client-port.js';
import { clusterService } from './cluster-service.js';
import type { KvBackend } from './kv-backend.js';
import { kvService } from './kv-service.js';
import { leaseService } from './lease-service.js';
import {
  DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS,
  MAX_RECEIVE_MESSAGE_BYTES,
  MAX_SEND_MESSAGE_BYTES,
  SHUTDOWN_GRACE_MS,
} from './limits.js';
import { maintenanceService } from './maintenance-service.js';
import { chainsServiceDefinition, etcdServices } from './proto.js';
import { type WatchCall, WatchStreamSession } from './watch-stream.js';

export interface EtcdApiServerOptions {
  /** host:port to listen on; port 0 picks a free one. */
  readonly address: string;
  readonly backend: KvBackend;
  /** When given, `meshos.v1.Chains` is served on the same port over it. */
  readonly chains?: ChainsBackend;
  readonly logger?: Logger;
  /** Drives periodic watch progress; defaults to the system clock. */
  readonly clock?: Clock;
  readonly progressNotifyIntervalMs?: number;
}

export interface EtcdApiServer {
  /** host:port actually bound (with the chosen port when 0 was asked for). */
  readonly address: string;
  /** Number of open Watch streams, for status views and tests. */
  readonly watchStreams: number;
  /** Connections served natively and with rewritten authorities (see `client-port.ts`). */
  readonly connections: ClientPortCounters;
  close(): Promise<void>;
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(colon + 1));
  assert(colon > 0 && Number.isInteger(port) && port >= 0 && port <= 65_535, `bad listen address ${address}`);
  return { host, port };
}

export async function startEtcdApiServer(options: EtcdApiServerOptions): Promise<EtcdApiServer> {
  const { backend } = options;
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? new SystemClock();
  const progressIntervalMs = options.progressNotifyIntervalMs ?? DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS;
  assert(progressIntervalMs > 0, 'progressNotifyIntervalMs must be positive');
  const { host, port } = splitAddress(options.address);

  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_SEND_MESSAGE_BYTES,
  });
  const sessions = new Set<WatchStreamSession>();
  const services = etcdServices();
  server.addService(services.kv, kvService(backend, logger));
  server.addService(services.watch, {
    Watch: (call: WatchCall) => {
      sessions.add(new WatchStreamSession(call, backend, logger, (session) => sessions.delete(session)));
    },
  });
  server.addService(services.lease, leaseService(backend, logger));
  server.addService(services.cluster, clusterService(backend, logger));
  server.addService(services.maintenance, maintenanceService(backend, logger));
  server.addService(services.auth, authService(backend, logger));
  let chains: ChainsServiceHandle | undefined;
  if (options.chains !== undefined) {
    chains = chainsService(options.chains, logger);
    server.addService(chainsServiceDefinition(), chains.implementation);
  }

  const hostForUri = host.includes(':') ? `[${host}]` : host;
  const clientPort = await listenClientPort({
    host,
    port,
    injector: server.createConnectionInjector(grpc.ServerCredentials.createInsecure()),
    logger,
  });
  const boundPort = clientPort.port;

  let progressTimer: TimerId | undefined;
  const scheduleProgress = (): void => {
    progressTimer = clock.setTimer(progressIntervalMs, () => {
      for (const session of sessions) session.progressTick();
      scheduleProgress();
    });
  };
  scheduleProgress();
  logger.info({ address: `${hostForUri}:${boundPort}` }, 'etcd api: listening');

  let closing: Promise<void> | undefined;
  return {
    address: `${hostForUri}:${boundPort}`,
    get watchStreams() {
      return sessions.size;
    },
    connections: clientPort.counters,
    close(): Promise<void> {
      closing ??= (async () => {
        if (progressTimer !== undefined) clock.clearTimer(progressTimer);
        for (const session of [...sessions]) session.end();
        chains?.close();
        clientPort.close();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, SHUTDOWN_GRACE_MS);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
      })();
      return closing;
    },
  };
}
