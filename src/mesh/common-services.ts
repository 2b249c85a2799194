/**
 * The services voters and workers both run, built the same way for both roles: the data
 * directory lock, identity with its certificates, the peer transport and the admin HTTP port.
 * Each one puts what it opened into `NodeParts` and takes it out again when it closes.
 */
import { PeerChannels, startAdminServer } from '../server/index.js';
import { createTcpTransport, loadTlsMaterial } from '../transport/index.js';
import { DataDirectoryLock } from './data-directory-lock.js';
import type { NodeIdentity } from './node-identity.js';
import { type CommonServiceContext, part, SERVICE } from './node-parts.js';
import type { NodeService } from './node-service.js';

/** The lock is retried while a dead holder's claim is cleared (see data-directory-lock.ts). */
export const DATA_DIRECTORY_LOCK_START_TIMEOUT_MS = 60_000;

/**
 * What every node stands on, in this order: the lock, identity with certificates (found by
 * the role's `load`), and the peer transport. All critical: see docs/SUPERVISION.md.
 */
export function foundationServices(context: CommonServiceContext, load: IdentityLoader): NodeService[] {
  return [lockService(context), identityService(context, load), transportService(context)];
}

function lockService({ config, parts, heldLock }: CommonServiceContext): NodeService {
  return {
    name: SERVICE.lock,
    role: 'one process per data directory',
    policy: 'critical',
    startTimeoutMs: DATA_DIRECTORY_LOCK_START_TIMEOUT_MS,
    async open() {
      // Before any file of the directory is read: a second process must not run on it.
      const lock = heldLock ?? (await DataDirectoryLock.acquire(config.dataDirectory));
      parts.lock = lock;
      return {
        close: async () => {
          delete parts.lock;
          await lock.release();
        },
      };
    },
  };
}

/** How a role finds its identity: read or created in the data directory, with its certificate. */
export type IdentityLoader = () => Promise<NodeIdentity>;

function identityService({ config, parts }: CommonServiceContext, load: IdentityLoader): NodeService {
  return {
    name: SERVICE.identity,
    role: 'node identity and certificates',
    dependsOn: [SERVICE.lock],
    policy: 'critical',
    async open() {
      const identity = await load();
      parts.identity = identity;
      if (!config.insecure) parts.tls = await loadTlsMaterial(config.certificateDirectory ?? '', identity.id);
      return {
        close: async () => {
          delete parts.identity;
          delete parts.tls;
        },
      };
    },
  };
}

function transportService({ config, parts, clock, random, logger }: CommonServiceContext): NodeService {
  return {
    name: SERVICE.transport,
    role: 'peer links (mutual TLS)',
    dependsOn: [SERVICE.identity],
    // Raft's link, the forwarding channel and membership's links are bound to it: see
    // docs/SUPERVISION.md.
    policy: 'critical',
    async open() {
      const tls = parts.tls;
      const transport = createTcpTransport({
        nodeId: part(parts, 'identity').id,
        clusterId: config.clusterId,
        listenAddress: config.peerAddress,
        clock,
        random: random.fork('transport'),
        ...(logger === undefined ? {} : { logger: logger.child({ part: 'transport' }) }),
        ...(tls === undefined ? { insecure: true } : { tls }),
      });
      parts.peerAddress = await transport.start();
      parts.transport = transport;
      parts.channels = new PeerChannels(transport, clock);
      return {
        close: async () => {
          parts.channels?.close();
          delete parts.channels;
          delete parts.transport;
          await transport.stop();
        },
      };
    },
  };
}

/** The admin port, once what `dependsOn` names runs (the registry `/metrics` serves, say). */
export function adminService(
  { config, parts, adminSource, registry }: CommonServiceContext,
  dependsOn: readonly string[],
): NodeService {
  return {
    name: SERVICE.admin,
    role: 'admin HTTP: /metrics, /health, /ready, /status, /nodes, /mesh/rtt',
    dependsOn,
    policy: 'restartable',
    async open() {
      const admin = await startAdminServer(
        parts.adminAddress ?? config.adminAddress,
        registry(),
        adminSource,
      );
      parts.adminAddress = admin.address;
      return { close: () => admin.close() };
    },
  };
}
