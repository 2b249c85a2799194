/**
 * The client port of a node, voter or worker: one gRPC server on `config.clientAddress` (a
 * restart binds the port it bound first) serving the role's etcd services and MeshOS's own.
 * Voters serve etcd's API over their KV; workers have no KV and answer etcd's services with
 * where they are served (docs/CHAINS.md, "On a running node").
 */
import {
  blobsPortService,
  type ClientPortService,
  chainsPortService,
  daemonsPortService,
  type MeshAccessCheck,
  newClientTlsRefusals,
  startClientPortServer,
} from '../api/index.js';
import { formatAddress, type Logger, parseAddress } from '../lib/index.js';
import { silentLogger } from '../lib/node/index.js';
import { blobsBackendOf } from './blob-service.js';
import { chainsBackendOf } from './chain-service.js';
import { readClientPortTls, watchClientPortTls } from './client-tls-files.js';
import { daemonsBackendOf } from './daemon-service.js';
import type { CommonServiceContext, NodeParts } from './node-parts.js';
import type { NodeService } from './node-service.js';

/**
 * MeshOS's own services, served on the client port of every node: a service added here is
 * served by voters and workers alike, each call checked by `access` (docs/SECURITY.md). Each
 * reaches its node service through `parts`, so the port may start before it (calls fail as
 * unavailable until it runs).
 */
export function meshPortServices(
  parts: NodeParts,
  logger: Logger,
  access: MeshAccessCheck,
): ClientPortService[] {
  return [
    chainsPortService(chainsBackendOf(parts), logger, access),
    daemonsPortService(daemonsBackendOf(parts), logger, access),
    blobsPortService(blobsBackendOf(parts), logger, access),
  ];
}

/** What a role serves on its client port, made each time the port opens. */
export interface ClientPortRole {
  /** etcd's services as this role answers them. */
  readonly etcdServices: ClientPortService[];
  /** How MeshOS's services check their callers against the cluster's users and roles. */
  readonly access: MeshAccessCheck;
  /** Releases what the role opened for the port, when the port closes. */
  readonly close?: () => Promise<void>;
}

export interface ClientPortPlan {
  readonly name: string;
  readonly role: string;
  readonly dependsOn: readonly string[];
  readonly serve: (logger: Logger) => ClientPortRole;
}

export function clientPortService(context: CommonServiceContext, plan: ClientPortPlan): NodeService {
  const { config, parts } = context;
  return {
    name: plan.name,
    role: plan.role,
    dependsOn: [...plan.dependsOn],
    policy: 'restartable',
    async open() {
      const logger = context.logger?.child({ part: 'api' }) ?? silentLogger;
      const tls = config.clientTls === undefined ? undefined : await readClientPortTls(config.clientTls);
      parts.clientTlsRefusals ??= newClientTlsRefusals();
      const role = plan.serve(logger);
      let server: Awaited<ReturnType<typeof startClientPortServer>>;
      try {
        server = await startClientPortServer({
          address: formatAddress(parts.clientAddress ?? config.clientAddress),
          services: [...role.etcdServices, ...meshPortServices(parts, logger, role.access)],
          logger,
          ...(tls === undefined ? {} : { tls }),
          tlsRefusals: parts.clientTlsRefusals,
        });
      } catch (error) {
        await role.close?.();
        throw error;
      }
      parts.clientAddress = parseAddress(server.address);
      const stopWatching =
        config.clientTls === undefined
          ? () => {}
          : watchClientPortTls(
              config.clientTls,
              (material) => server.reloadTls(material),
              logger,
              context.clock,
            );
      return {
        close: async () => {
          stopWatching();
          await server.close();
          await role.close?.();
        },
      };
    },
  };
}
