import { collectDefaultMetrics, Registry } from 'prom-client';
import { type ControlPlane, openControlPlane } from '../control/index.js';
import {
  type Address,
  type Clock,
  type Disk,
  formatAddress,
  type Logger,
  type NodeId,
  type Random,
  SystemClock,
  systemRandom,
} from '../lib/index.js';
import { NodeDisk } from '../lib/node/index.js';
import { type AdminServer, startAdminServer } from '../server/index.js';
import {
  createTcpTransport,
  ensureNodeCertificate,
  loadTlsMaterial,
  type PeerTransport,
} from '../transport/index.js';
import { DataDirectoryLock } from './data-directory-lock.js';
import { Membership } from './membership.js';
import { validateWorkerNodeConfig, type WorkerNodeConfig } from './membership-config.js';
import { checkIdentity, loadOrCreateIdentity, readIdentity } from './node-identity.js';
import { meshosVersion } from './version.js';
import { allocateWorkerNodeId } from './worker-id.js';

export interface WorkerNodeDependencies {
  /** The control plane to use instead of opening one on `config.controlPlaneEndpoints`. */
  readonly controlPlane?: ControlPlane;
  readonly disk?: Disk;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
}

/** The addresses a running worker listens on (port 0 resolved). */
export interface WorkerNodeEndpoints {
  readonly peer: Address;
  readonly admin: Address;
}

/**
 * A worker: no Raft. It keeps its identity and certificate, runs the peer transport, reaches
 * the control plane (MeshOS voters or an etcd cluster) as a client, registers itself there
 * under a lease and follows the mesh's membership, and serves the admin HTTP port.
 */
export class WorkerNode {
  private constructor(
    readonly id: NodeId,
    readonly name: string,
    readonly endpoints: WorkerNodeEndpoints,
    readonly membership: Membership,
    private readonly plane: ControlPlane,
    private readonly transport: PeerTransport,
    private readonly admin: AdminServer,
    private readonly lock: DataDirectoryLock,
  ) {}

  static async start(
    config: WorkerNodeConfig,
    dependencies: WorkerNodeDependencies = {},
  ): Promise<WorkerNode> {
    validateWorkerNodeConfig(config);
    const lock = await DataDirectoryLock.acquire(config.dataDirectory);
    const closeOnFailure: (() => Promise<void>)[] = [() => lock.release()];
    try {
      return await WorkerNode.startLocked(config, dependencies, lock, closeOnFailure);
    } catch (error) {
      for (const close of closeOnFailure.reverse()) await close().catch(() => {});
      throw error;
    }
  }

  private static async startLocked(
    config: WorkerNodeConfig,
    dependencies: WorkerNodeDependencies,
    lock: DataDirectoryLock,
    closeOnFailure: (() => Promise<void>)[],
  ): Promise<WorkerNode> {
    const disk = dependencies.disk ?? new NodeDisk();
    const clock = dependencies.clock ?? new SystemClock();
    const random = dependencies.random ?? systemRandom();
    const logger = dependencies.logger;
    const plane =
      dependencies.controlPlane ??
      (await openControlPlane({
        kind: 'etcd',
        endpoints: config.controlPlaneEndpoints,
        clock,
        random: random.fork('control-plane'),
      }));
    if (dependencies.controlPlane === undefined) closeOnFailure.push(() => plane.close());

    const id = await workerIdentity(disk, config, plane);
    const name = config.name ?? `w${id}`;
    if (config.certificateDirectory !== undefined)
      await ensureNodeCertificate(config.certificateDirectory, id);
    const transport = createTcpTransport({
      nodeId: id,
      clusterId: config.clusterId,
      listenAddress: config.peerAddress,
      clock,
      random: random.fork('transport'),
      ...(logger === undefined ? {} : { logger: logger.child({ part: 'transport' }) }),
      ...(config.insecure
        ? { insecure: true }
        : { tls: await loadTlsMaterial(config.certificateDirectory ?? '', id) }),
    });
    const peerAddress = await transport.start();
    closeOnFailure.push(() => transport.stop());

    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'meshos_process_' });
    // The admin port is bound before the record is built: the record names it.
    let membership: Membership | undefined;
    const admin = await startAdminServer(config.adminAddress, registry, {
      health: () => ({ ok: true, detail: { id, role: 'worker' } }),
      readiness: () => ({
        ok: membership?.registration.isRegistered === true && membership.view.isLoaded,
        detail: {
          registered: membership?.registration.isRegistered === true,
          membershipLoaded: membership?.view.isLoaded === true,
          lastError: membership?.registration.lastError?.message,
        },
      }),
      status: () => ({
        id,
        name,
        role: 'worker',
        controlPlane: plane.kind,
        leaseId: membership?.registration.leaseId,
        registrations: membership?.registration.registrations,
        nodes: membership?.view.size,
      }),
      routes: { '/nodes': () => membership?.report() ?? Promise.resolve({ reporter: id, nodes: [] }) },
    });
    closeOnFailure.push(() => admin.close());

    membership = new Membership({
      plane,
      record: {
        id,
        name,
        role: 'worker',
        addresses: { peer: formatAddress(peerAddress), admin: formatAddress(admin.address) },
        zone: config.membership.zone,
        capacity: config.membership.capacity,
        version: meshosVersion(),
        startedAt: clock.wallMs(),
      },
      leaseTtlSeconds: config.membership.leaseTtlSeconds,
      transport,
      dialRegisteredNodes: true,
      clock,
      random: random.fork('membership'),
      ...(logger === undefined ? {} : { logger }),
    });
    membership.registerMetrics(registry);
    membership.start();
    return new WorkerNode(
      id,
      name,
      { peer: peerAddress, admin: admin.address },
      membership,
      plane,
      transport,
      admin,
      lock,
    );
  }

  /** Serves until `signal` aborts, then stops cleanly (the lease is revoked: the mesh sees it leave). */
  async run(signal: AbortSignal): Promise<void> {
    if (!signal.aborted) {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    await this.stop();
  }

  async stop(): Promise<void> {
    await this.admin.close();
    await this.membership.leave();
    await this.transport.stop();
    await this.plane.close();
    await this.lock.release();
  }
}

/**
 * The worker's id: the one kept in its data directory, or on first start one allocated through
 * the control plane and written there, so a restarted worker keeps its id.
 */
async function workerIdentity(disk: Disk, config: WorkerNodeConfig, plane: ControlPlane): Promise<NodeId> {
  const stored = await readIdentity(disk, config.dataDirectory);
  if (stored !== undefined) {
    checkIdentity(stored, config.clusterId, 'worker');
    return stored.id;
  }
  const id = await allocateWorkerNodeId(plane);
  const identity = await loadOrCreateIdentity(disk, config.dataDirectory, {
    id,
    name: config.name ?? `w${id}`,
    clusterId: config.clusterId,
    initialPeers: [],
    role: 'worker',
  });
  return identity.id;
}
