/**
 * A node's client port: one gRPC server on one TCP port (`client-port.ts` listens) serving a list
 * of services. Voters serve etcd's six services and MeshOS's own; workers serve MeshOS's own and
 * answer etcd's with a refusal naming the voters. Each role builds its list, so a new MeshOS
 * service is one more entry in the list both roles share.
 *
 * The gRPC server is MeshOS's own (`grpc-server/`) on MeshOS's own HTTP/2 connection (`http2/`).
 * For A/B measurements the same gRPC server on node:http2 stays selectable with
 * `MESHOS_CLIENT_PORT_SERVER=node-http2`, and grpc-js's `Server` with `grpc-js`.
 */
import * as grpc from '@grpc/grpc-js';
import { assert, type Logger } from '../lib/index.js';
import { silentLogger } from '../lib/node/index.js';
import { type ClientPortCounters, type ConnectionInjector, listenClientPort } from './client-port.js';
import type { ClientPortTls, ClientTlsRefusals } from './client-port-tls.js';
import { GrpcServer } from './grpc-server/index.js';
import { HPACK_CODEC } from './http2/header-codec.js';
import { MAX_RECEIVE_MESSAGE_BYTES, MAX_SEND_MESSAGE_BYTES, SHUTDOWN_GRACE_MS } from './limits.js';

/** One gRPC service on the client port. */
export interface ClientPortService {
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
  /** Ends its open streams (their clients resume elsewhere); called when the port closes. */
  close?(): void;
}

export interface ClientPortServerOptions {
  /** host:port to listen on; port 0 picks a free one. */
  readonly address: string;
  readonly services: readonly ClientPortService[];
  readonly logger?: Logger;
  /** Which gRPC server serves the port; default from `MESHOS_CLIENT_PORT_SERVER`, else MeshOS's own. */
  readonly grpcServer?: GrpcServerChoice;
  /** Serve TLS (and require client certificates when it says so); plaintext without it. */
  readonly tls?: ClientPortTls;
  /** Where TLS refusals are counted, by reason. */
  readonly tlsRefusals?: ClientTlsRefusals;
}

/**
 * MeshOS's own gRPC server on its own HTTP/2 (`meshos`, the default), the same on node:http2
 * (`node-http2`), or grpc-js's (`grpc-js`): the last two kept for A/B measurements.
 */
export type GrpcServerChoice = 'meshos' | 'node-http2' | 'grpc-js';

const GRPC_SERVER_CHOICES: readonly string[] = ['meshos', 'node-http2', 'grpc-js'];

/** Environment variable choosing the client port's gRPC server (`node-http2`, `grpc-js`). */
export const CLIENT_PORT_SERVER_ENV = 'MESHOS_CLIENT_PORT_SERVER';

export interface ClientPortServer {
  /** host:port actually bound (with the chosen port when 0 was asked for). */
  readonly address: string;
  /** Connections served natively and with rewritten authorities (see `client-port.ts`). */
  readonly connections: ClientPortCounters;
  /**
   * Ends every service's streams, then lets calls finish for `SHUTDOWN_GRACE_MS` before cutting
   * them; resolves with no connection of the port left open.
   */
  close(): Promise<void>;
  /** New TLS material for new connections (see `ClientPort.reloadTls`); a TLS port only. */
  reloadTls(material: ClientPortTls): void;
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(colon + 1));
  assert(colon > 0 && Number.isInteger(port) && port >= 0 && port <= 65_535, `bad listen address ${address}`);
  return { host, port };
}

/** A gRPC server as the port drives it: takes connections, shuts down within a grace time. */
interface PortGrpcServer extends ConnectionInjector {
  /** Stops taking calls, lets calls in flight finish for `graceMs`, then cuts them. */
  shutdown(graceMs: number): Promise<void>;
}

function meshosGrpcServer(services: readonly ClientPortService[], ownHttp2: boolean): PortGrpcServer {
  const server = new GrpcServer({
    maxReceiveMessageBytes: MAX_RECEIVE_MESSAGE_BYTES,
    maxSendMessageBytes: MAX_SEND_MESSAGE_BYTES,
    ...(ownHttp2 ? { ownHttp2: HPACK_CODEC } : {}),
  });
  for (const service of services) server.addService(service.definition, service.implementation);
  return {
    takesAnyAuthority: ownHttp2,
    injectConnection: (connection) => server.injectConnection(connection),
    shutdown: (graceMs) => server.close(graceMs),
  };
}

function grpcJsServer(services: readonly ClientPortService[]): PortGrpcServer {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_SEND_MESSAGE_BYTES,
    // Nothing reads channelz here; with it on, grpc-js gives every call a tracker object with
    // four closures and timestamps, kept until the call ends (garbage that a loaded call carries
    // into the old generation).
    'grpc.enable_channelz': 0,
  });
  for (const service of services) server.addService(service.definition, service.implementation);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return {
    injectConnection: (connection) => injector.injectConnection(connection),
    shutdown: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

function chosenGrpcServer(choice: GrpcServerChoice | undefined): GrpcServerChoice {
  const chosen = choice ?? process.env[CLIENT_PORT_SERVER_ENV] ?? 'meshos';
  assert(
    GRPC_SERVER_CHOICES.includes(chosen),
    `${CLIENT_PORT_SERVER_ENV} must be one of ${GRPC_SERVER_CHOICES.join(', ')}, not ${chosen}`,
  );
  return chosen as GrpcServerChoice;
}

export async function startClientPortServer(options: ClientPortServerOptions): Promise<ClientPortServer> {
  const logger = options.logger ?? silentLogger;
  const { host, port } = splitAddress(options.address);
  const choice = chosenGrpcServer(options.grpcServer);
  const server =
    choice === 'grpc-js'
      ? grpcJsServer(options.services)
      : meshosGrpcServer(options.services, choice === 'meshos');
  const clientPort = await listenClientPort({
    host,
    port,
    injector: server,
    logger,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.tlsRefusals === undefined ? {} : { tlsRefusals: options.tlsRefusals }),
  });
  const address = `${host.includes(':') ? `[${host}]` : host}:${clientPort.port}`;
  logger.info(
    {
      address,
      tls: options.tls === undefined ? 'off' : options.tls.clientCertificateAuth ? 'client-cert-auth' : 'on',
    },
    'client port: listening',
  );

  let closing: Promise<void> | undefined;
  return {
    address,
    connections: clientPort.counters,
    reloadTls: (material) => clientPort.reloadTls(material),
    close(): Promise<void> {
      closing ??= (async () => {
        for (const service of options.services) service.close?.();
        clientPort.close();
        await server.shutdown(SHUTDOWN_GRACE_MS);
        const cut = clientPort.destroyConnections();
        if (cut > 0)
          logger.info({ connections: cut }, 'client port: cut connections whose clients did not read');
      })();
      return closing;
    },
  };
}
