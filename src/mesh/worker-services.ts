/**
 * The services of a worker node, in the order they depend on each other: the lock, identity,
 * transport and admin port as on a voter, a client of the control plane's endpoints instead of
 * Raft, and membership.
 */
import { readFile } from 'node:fs/promises';
import { EtcdApiNotServedError, refusedEtcdServices } from '../api/index.js';
import type { ClientTlsOptions } from '../client/index.js';
import { openControlPlane } from '../control/index.js';
import { type Clock, formatAddress, MeshError, type NodeId, type Random } from '../lib/index.js';
import { ensureNodeCertificate } from '../transport/index.js';
import { blobsService } from './blob-service.js';
import { chainReplicaRuntime } from './chain-replicas.js';
import { chainsService } from './chain-service.js';
import { clientPortService } from './client-port-service.js';
import { adminService, foundationServices, type IdentityLoader } from './common-services.js';
import { daemonsService } from './daemon-service.js';
import { maintenanceService } from './maintenance-service.js';
import type { Membership } from './membership.js';
import type { ControlPlaneTlsFiles, WorkerNodeConfig } from './membership-config.js';
import {
  type ControlPlaneConnection,
  controlPlaneService,
  membershipService,
} from './membership-services.js';
import { checkIdentity, loadOrCreateIdentity, readIdentity } from './node-identity.js';
import { type CommonServiceContext, part, SERVICE } from './node-parts.js';
import type { NodeService } from './node-service.js';
import { proximityService } from './proximity-service.js';
import { reconcileService } from './reconcile-service.js';
import { allocateWorkerNodeId } from './worker-id.js';

export interface WorkerServiceContext extends CommonServiceContext {
  readonly config: WorkerNodeConfig;
  /** Opens a client of the control plane (or lends the one a test gave). */
  readonly connect: () => Promise<ControlPlaneConnection>;
  /** Told of each membership the service opens (the first, and each after a restart). */
  readonly membershipOpened?: (membership: Membership) => void;
}

/**
 * A worker's services: lock, identity, transport, the control-plane client, admin HTTP, the
 * client port (MeshOS's services), membership, proximity and chains. Only membership, proximity and chains use the control-plane
 * client, so its restart restarts nothing critical.
 */
export function workerServices(context: WorkerServiceContext): NodeService[] {
  const { config, parts } = context;
  return [
    ...foundationServices(context, workerIdentity(context)),
    controlPlaneService(context, {
      role: `control plane client of ${config.controlPlaneEndpoints.join(',')}`,
      dependsOn: [SERVICE.lock],
      connect: context.connect,
    }),
    adminService(context, [SERVICE.identity]),
    clientPortService(context, {
      name: SERVICE.clientPort,
      role: "MeshOS gRPC services for clients; etcd's are refused, naming the voters",
      dependsOn: [SERVICE.identity],
      etcdServices: () =>
        refusedEtcdServices(
          new EtcdApiNotServedError(
            `node ${part(parts, 'identity').id} is a worker`,
            config.controlPlaneEndpoints,
          ),
        ),
    }),
    // The record names the peer, client and admin ports, so they are bound first.
    membershipService(context, [SERVICE.controlPlane, SERVICE.transport, SERVICE.clientPort, SERVICE.admin], {
      role: 'worker',
      name: () => workerName(config, part(parts, 'identity').id),
      addresses: () => ({
        peer: formatAddress(part(parts, 'peerAddress')),
        client: formatAddress(part(parts, 'clientAddress')),
        admin: formatAddress(part(parts, 'adminAddress')),
      }),
      dialRegisteredNodes: true,
      ...(context.membershipOpened === undefined ? {} : { opened: context.membershipOpened }),
    }),
    maintenanceService(context),
    proximityService(context),
    chainsService(context, chainReplicaRuntime),
    daemonsService(context),
    reconcileService(context),
    blobsService(context),
  ];
}

/** Its configured name, or `w<id>`. */
export function workerName(config: WorkerNodeConfig, id: NodeId): string {
  return config.name ?? `w${id}`;
}

/** The client a worker opens on its control-plane endpoints. */
export function etcdControlPlane(
  config: WorkerNodeConfig,
  clock: Clock,
  random: Random,
): () => Promise<ControlPlaneConnection> {
  return async (): Promise<ControlPlaneConnection> => {
    const tls = config.controlPlaneTls === undefined ? undefined : await readTlsFiles(config.controlPlaneTls);
    const plane = await openControlPlane({
      kind: 'etcd',
      endpoints: config.controlPlaneEndpoints,
      clock,
      random: random.fork('control-plane'),
      ...(tls === undefined ? {} : { tls }),
    });
    return { plane, close: () => plane.close() };
  };
}

/**
 * The worker's identity: the one kept in its data directory, or on first start one allocated
 * through the control plane (a client opened for that alone: the control-plane service may
 * restart, the identity must not) and written there, so a restarted worker keeps its id. Its
 * certificate is issued from the CA key once the id is known.
 */
function workerIdentity({ config, disk, connect }: WorkerServiceContext): IdentityLoader {
  return async () => {
    let identity = await readIdentity(disk, config.dataDirectory);
    if (identity === undefined) {
      const connection = await connect();
      let id: NodeId;
      try {
        id = await allocateWorkerNodeId(connection.plane);
      } finally {
        await connection.close();
      }
      identity = await loadOrCreateIdentity(disk, config.dataDirectory, {
        id,
        name: workerName(config, id),
        clusterId: config.clusterId,
        initialPeers: [],
        role: 'worker',
      });
    } else {
      checkIdentity(identity, config.clusterId, 'worker');
    }
    if (config.certificateDirectory !== undefined)
      await ensureNodeCertificate(config.certificateDirectory, identity.id);
    return identity;
  };
}

/** The control plane's TLS material; CONTROL_PLANE_TLS names the file that could not be read. */
async function readTlsFiles(files: ControlPlaneTlsFiles): Promise<ClientTlsOptions> {
  const read = async (file: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw new MeshError('CONTROL_PLANE_TLS', `cannot read ${file}: ${(error as Error).message}`, {
        details: { file },
      });
    }
  };
  return {
    caCertificatePem: await read(files.caFile),
    ...(files.certificateFile === undefined || files.keyFile === undefined
      ? {}
      : { certificatePem: await read(files.certificateFile), privateKeyPem: await read(files.keyFile) }),
  };
}
