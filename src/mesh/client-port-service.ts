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
  meshAccess,
  newClientTlsRefusals,
  startClientPortServer,
} from '../api/index.js';
import { DEFAULT_CONTROL_ROOT } from '../control/index.js';
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
 * served by voters and workers alike. Each reaches its node service through `parts`, so the
 * port may start before it (calls fail as unavailable until it runs).
 */
export function meshPortServices(parts: NodeParts, logger: Logger): ClientPortService[] {
  return [
    // Checked against the voter's auth store; a worker has none and checks nothing (docs/SECURITY.md).
    chainsPortService(
      chainsBackendOf(parts),
      logger,
      meshAccess(() => parts.backend, DEFAULT_CONTROL_ROOT),
    ),
    daemonsPortService(daemonsBackendOf(parts), logger),
    blobsPortService(blobsBackendOf(parts), logger),
  ];
}

export interface ClientPortPlan {
  readonly name: string;
  readonly role: string;
  readonly dependsOn: readonly string[];
  /** etcd's services as this role answers them, built each time the port opens. */
  readonly etcdServices: (logger: Logger) => ClientPortService[];
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
      const server = await startClientPortServer({
        address: formatAddress(parts.clientAddress ?? config.clientAddress),
        services: [...plan.etcdServices(logger), ...meshPortServices(parts, logger)],
        logger,
        ...(tls === undefined ? {} : { tls }),
        tlsRefusals: parts.clientTlsRefusals,
      });
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
        close: () => {
          stopWatching();
          return server.close();
        },
      };
    },
  };
}
