/**
 * The etcd v3 gRPC API over a `KvBackend`: KV, Watch, Lease, Cluster, Maintenance and Auth on one
 * HTTP/2 port (plaintext, or TLS when given). Every answer's header carries the backend's cluster id, member id, revision
 * and Raft term; every failure carries etcd's gRPC code and message.
 */
import { assert, type Clock, type Logger, SystemClock, type TimerId } from '../lib/index.js';
import { silentLogger } from '../lib/node/index.js';
import { authService } from './auth-service.js';
import type { ChainsBackend } from './chains-backend.js';
import { chainsPortService } from './chains-service.js';
import type { ClientPortCounters } from './client-port.js';
import { type ClientPortService, startClientPortServer } from './client-port-server.js';
import type { ClientPortTls, ClientTlsRefusals } from './client-port-tls.js';
import { clusterService } from './cluster-service.js';
import type { DaemonsBackend } from './daemons-backend.js';
import { daemonsPortService } from './daemons-service.js';
import type { KvBackend } from './kv-backend.js';
import { kvService } from './kv-service.js';
import { leaseService } from './lease-service.js';
import { DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS } from './limits.js';
import { maintenanceService } from './maintenance-service.js';
import { etcdServices } from './proto.js';
import { type WatchCall, WatchStreamSession } from './watch-stream.js';

export interface EtcdApiServerOptions {
  /** host:port to listen on; port 0 picks a free one. */
  readonly address: string;
  readonly backend: KvBackend;
  /** When given, `meshos.v1.Chains` is served on the same port over it. */
  readonly chains?: ChainsBackend;
  /** When given, `meshos.v1.Daemons` is served on the same port over it. */
  readonly daemons?: DaemonsBackend;
  readonly logger?: Logger;
  /** Drives periodic watch progress; defaults to the system clock. */
  readonly clock?: Clock;
  readonly progressNotifyIntervalMs?: number;
  /** Serve TLS (client certificates required when it says so); plaintext without it. */
  readonly tls?: ClientPortTls;
  /** Where TLS refusals are counted, by reason. */
  readonly tlsRefusals?: ClientTlsRefusals;
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

export async function startEtcdApiServer(options: EtcdApiServerOptions): Promise<EtcdApiServer> {
  const logger = options.logger ?? silentLogger;
  const etcd = etcdPortServices(options.backend, {
    logger,
    clock: options.clock ?? new SystemClock(),
    progressNotifyIntervalMs: options.progressNotifyIntervalMs ?? DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS,
  });
  const server = await startClientPortServer({
    address: options.address,
    logger,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.tlsRefusals === undefined ? {} : { tlsRefusals: options.tlsRefusals }),
    services: [
      ...etcd.services,
      ...(options.chains === undefined ? [] : [chainsPortService(options.chains, logger)]),
      ...(options.daemons === undefined ? [] : [daemonsPortService(options.daemons, logger)]),
    ],
  });
  return {
    address: server.address,
    get watchStreams() {
      return etcd.watchStreams();
    },
    connections: server.connections,
    close: () => server.close(),
  };
}

/**
 * etcd's six services over `backend`. The Watch service's streams get a progress tick every
 * `progressNotifyIntervalMs` until it is closed.
 */
export function etcdPortServices(
  backend: KvBackend,
  options: { readonly logger: Logger; readonly clock: Clock; readonly progressNotifyIntervalMs: number },
): { services: ClientPortService[]; watchStreams: () => number } {
  const { logger, clock, progressNotifyIntervalMs } = options;
  assert(progressNotifyIntervalMs > 0, 'progressNotifyIntervalMs must be positive');
  const definitions = etcdServices();
  const sessions = new Set<WatchStreamSession>();
  let progressTimer: TimerId | undefined;
  const scheduleProgress = (): void => {
    progressTimer = clock.setTimer(progressNotifyIntervalMs, () => {
      for (const session of sessions) session.progressTick();
      scheduleProgress();
    });
  };
  scheduleProgress();
  const lease = leaseService(backend, logger);
  const watch: ClientPortService = {
    definition: definitions.watch,
    implementation: {
      Watch: (call: WatchCall) => {
        sessions.add(new WatchStreamSession(call, backend, logger, (session) => sessions.delete(session)));
      },
    },
    close: () => {
      if (progressTimer !== undefined) clock.clearTimer(progressTimer);
      progressTimer = undefined;
      for (const session of [...sessions]) session.end();
    },
  };
  return {
    services: [
      { definition: definitions.kv, implementation: kvService(backend, logger) },
      watch,
      { definition: definitions.lease, ...lease },
      { definition: definitions.cluster, implementation: clusterService(backend, logger) },
      { definition: definitions.maintenance, implementation: maintenanceService(backend, logger) },
      { definition: definitions.auth, implementation: authService(backend, logger) },
    ],
    watchStreams: () => sessions.size,
  };
}
