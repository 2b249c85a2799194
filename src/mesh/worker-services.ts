/**
 * The services of a worker node, in the order they depend on each other: the lock, identity,
 * transport and admin port as on a voter, a client of the control plane's endpoints instead of
 * Raft, and membership.
 */
import { readFile } from 'node:fs/promises';
import {
  credentialsOf,
  EtcdApiNotServedError,
  forwardedAuthService,
  meshResourceInterval,
  OPEN_MESH_ACCESS,
  refusedEtcdServices,
} from '../api/index.js';
import { AuthRefusals } from '../auth/index.js';
import { type ClientTlsOptions, MeshClient } from '../client/index.js';
import { DEFAULT_CONTROL_ROOT, openControlPlane } from '../control/index.js';
import { type Clock, formatAddress, type Logger, MeshError, type NodeId, type Random } from '../lib/index.js';
import { ensureNodeCertificate } from '../transport/index.js';
import { blobsService } from './blob-service.js';
import { chainReplicaRuntime } from './chain-replicas.js';
import { chainsService } from './chain-service.js';
import { type ClientPortRole, clientPortService } from './client-port-service.js';
import { adminService, foundationServices, type IdentityLoader } from './common-services.js';
import { daemonsService } from './daemon-service.js';
import { maintenanceService } from './maintenance-service.js';
import type { Membership } from './membership.js';
import type {
  ControlPlaneCredentialFiles,
  ControlPlaneTlsFiles,
  WorkerNodeConfig,
} from './membership-config.js';
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
import { ControlPlaneCallers } from './worker-callers.js';
import { allocateWorkerNodeId } from './worker-id.js';

export interface WorkerServiceContext extends CommonServiceContext {
  readonly config: WorkerNodeConfig;
  /** Opens a client of the control plane (or lends the one a test gave). */
  readonly connect: () => Promise<ControlPlaneConnection>;
  /** Told of each membership the service opens (the first, and each after a restart). */
  readonly membershipOpened?: (membership: Membership) => void;
  /**
   * Opens a client of the control plane's endpoints for the client port's auth checks; without
   * it (a control plane lent by a test) the port checks nothing.
   */
  readonly controlPlaneClient?: () => Promise<MeshClient>;
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
      role: "MeshOS gRPC services for clients, checked against the control plane's users and roles; etcd's are refused, naming the voters",
      dependsOn: [SERVICE.identity],
      serve: (logger) => workerPortRole(context, logger),
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

/**
 * A worker's client port: MeshOS's services, each call checked through the control plane
 * (worker-callers.ts); of etcd's, Authenticate and AuthStatus forwarded there and the rest
 * refused, naming the voters.
 */
function workerPortRole(context: WorkerServiceContext, logger: Logger): ClientPortRole {
  const { config, parts } = context;
  const notServed = new EtcdApiNotServedError(
    `node ${part(parts, 'identity').id} is a worker`,
    config.controlPlaneEndpoints,
  );
  const open = context.controlPlaneClient;
  if (open === undefined) return { etcdServices: refusedEtcdServices(notServed), access: OPEN_MESH_ACCESS };
  let client: Promise<MeshClient> | undefined;
  const auth = async () => {
    client ??= open().catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return (await client).auth;
  };
  if (parts.callerRefusals === undefined) {
    const authLogger = context.logger?.child({ part: 'auth' });
    parts.callerRefusals = new AuthRefusals();
    parts.callerRefusals.onRefusal = (refusal) => authLogger?.warn(refusal, 'auth: request refused');
  }
  const callers = new ControlPlaneCallers(auth, context.clock, parts.callerRefusals);
  parts.workerAuthStatus = () => callers.currentStatus();
  return {
    etcdServices: refusedEtcdServices(notServed, { auth: forwardedAuthService(callers, logger) }),
    access: (metadata, access, kind, name, what) =>
      callers.check(
        credentialsOf(metadata),
        access,
        meshResourceInterval(DEFAULT_CONTROL_ROOT, kind, name),
        `${access} ${kind} ${name ?? '(all)'}`,
        what,
      ),
    close: async () => {
      const opened = client;
      client = undefined;
      (await opened?.catch(() => undefined))?.close();
    },
  };
}

/** How a worker reaches its control plane: TLS and the user it acts as, read from their files now. */
async function controlPlaneAccess(
  config: WorkerNodeConfig,
): Promise<{ tls?: ClientTlsOptions; credentials?: { user: string; password: string } }> {
  const tls = config.controlPlaneTls === undefined ? undefined : await readTlsFiles(config.controlPlaneTls);
  const credentials =
    config.controlPlaneCredentials === undefined
      ? undefined
      : await readCredentials(config.controlPlaneCredentials);
  return {
    ...(tls === undefined ? {} : { tls }),
    ...(credentials === undefined ? {} : { credentials }),
  };
}

/** The client a worker opens on its control-plane endpoints. */
export function etcdControlPlane(
  config: WorkerNodeConfig,
  clock: Clock,
  random: Random,
): () => Promise<ControlPlaneConnection> {
  return async (): Promise<ControlPlaneConnection> => {
    const plane = await openControlPlane({
      kind: 'etcd',
      endpoints: config.controlPlaneEndpoints,
      clock,
      random: random.fork('control-plane'),
      ...(await controlPlaneAccess(config)),
    });
    return { plane, close: () => plane.close() };
  };
}

/** A client of the control plane's endpoints as the worker's user, for its client port's auth checks. */
export function controlPlaneClient(config: WorkerNodeConfig, random: Random): () => Promise<MeshClient> {
  return async () =>
    MeshClient.connect({
      endpoints: config.controlPlaneEndpoints,
      random: random.fork('caller-auth'),
      ...(await controlPlaneAccess(config)),
    });
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

/**
 * The worker's control-plane user and its password, the first line of its file;
 * CONTROL_PLANE_CREDENTIALS when the file cannot be read or that line is empty.
 */
export async function readCredentials(
  files: ControlPlaneCredentialFiles,
): Promise<{ user: string; password: string }> {
  let text: string;
  try {
    text = await readFile(files.passwordFile, 'utf8');
  } catch (error) {
    throw new MeshError(
      'CONTROL_PLANE_CREDENTIALS',
      `cannot read ${files.passwordFile}: ${(error as Error).message}`,
      {
        details: { file: files.passwordFile },
      },
    );
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password === '')
    throw new MeshError(
      'CONTROL_PLANE_CREDENTIALS',
      `${files.passwordFile}: the first line (the password) is empty`,
      {
        details: { file: files.passwordFile },
      },
    );
  return { user: files.user, password };
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
