/**
 * The `chains` service of a node's supervision tree, voters and workers alike: the chain host
 * (the replicas this node holds, the chains channel), the node's chain requests, which the
 * client port serves as `meshos.v1.Chains` on voters, and the chain coordinator (it acts only
 * while this node holds the coordinator key). Restartable: its state is the replicas' logs on
 * disk, reopened on restart; it depends on the transport, the control plane (definitions) and
 * membership (placement, failover).
 */
import type { ChainRecordStream, ChainsBackend } from '../api/index.js';
import {
  ChainCoordinator,
  ChainDirectory,
  ChainHost,
  type ChainMessage,
  ChainUnavailableError,
  DEFAULT_CHAIN_GRACE_PERIOD_MS,
  directoryFeed,
  type ProximityMatrix,
  proposeFailover,
  type ReplicaMessageCodec,
  type ReplicaOpener,
  StatusLearnerProgress,
} from '../chains/index.js';
import { PEER_CHANNEL } from '../lib/index.js';
import { endOfTurn } from '../lib/node/index.js';
import { followChainLinks } from './chain-links.js';
import { chainLimitOf, coordinatorMembership, membershipMatrix, meshChainPlacer } from './chain-placement.js';
import { ChainRequests, newChainRequestCounters } from './chain-requests.js';
import { type CommonServiceContext, part, SERVICE } from './node-parts.js';
import type { NodeService } from './node-service.js';

/** How a node runs the replica of one chain: the replication protocol over a chain log. */
export interface ChainReplicaRuntime<M extends ChainMessage> {
  readonly codec: ReplicaMessageCodec<M>;
  readonly openReplica: ReplicaOpener<M>;
}

export function chainsService<M extends ChainMessage>(
  context: CommonServiceContext,
  runtimeOf: (context: CommonServiceContext) => ChainReplicaRuntime<M>,
): NodeService {
  const { config, parts, disk, clock, random, logger } = context;
  const counters = context.chainCounters ?? newChainRequestCounters();
  return {
    name: SERVICE.chains,
    role: 'replicated chains: the replicas this node holds, chain requests from any node',
    dependsOn: [SERVICE.transport, SERVICE.controlPlane, SERVICE.membership],
    policy: 'restartable',
    async open() {
      const self = part(parts, 'identity').id;
      const membership = part(parts, 'membership');
      const directory = new ChainDirectory(part(parts, 'controlPlane'), { clock });
      const matrix = (): ProximityMatrix => parts.proximityMatrix?.() ?? membershipMatrix(membership.view);
      const runtime = runtimeOf(context);
      const gracePeriodMs = config.chainRepairGraceMs ?? DEFAULT_CHAIN_GRACE_PERIOD_MS;
      const host = new ChainHost<M>({
        self,
        chainsDirectory: `${config.dataDirectory}/chains`,
        link: part(parts, 'channels').link(PEER_CHANNEL.chains),
        codec: runtime.codec,
        openReplica: runtime.openReplica,
        removeDirectory: (directory) => disk.remove(directory),
        definitions: directoryFeed(directory),
        proposeFailover: async (definition, suspected) => {
          counters.failoverProposals += 1;
          await proposeFailover(directory, definition.name, new Set([suspected]), matrix(), {
            epoch: definition.epoch,
          });
        },
        clock,
        ...(logger === undefined ? {} : { logger: logger.child({ part: 'chains' }) }),
        // The limit its record states, so placement elsewhere and this host agree.
        ...chainLimitOf({ capacity: config.membership?.capacity ?? {} }),
      });
      const requests = new ChainRequests<M>({
        host,
        store: directory,
        place: meshChainPlacer(
          () => membership.view,
          matrix,
          clock,
          gracePeriodMs,
          () => parts.maintenance,
        ),
        clock,
        counters: counters,
        // The forwarded appends of a turn go out with the turn's other messages to the leader.
        atEndOfTurn: (work) => endOfTurn.defer(work),
      });
      const coordinator = new ChainCoordinator({
        directory,
        self,
        membership: coordinatorMembership(
          () => membership.view,
          () => parts.maintenance,
        ),
        // The leaders' own view of their learners, asked through this node's requests.
        progress: new StatusLearnerProgress((name) => requests.status(name)),
        clock,
        random: random.fork('chain-coordinator'),
        proximity: matrix,
        gracePeriodMs,
        // Replicas are replaced by the mesh's reconciler (reconcile-service.ts); leaders are elected here.
        repairsReplicas: false,
        ...(logger === undefined ? {} : { logger: logger.child({ part: 'chain-coordinator' }) }),
      });
      host.start();
      coordinator.start();
      const links = followChainLinks({
        self,
        transport: part(parts, 'transport'),
        view: membership.view,
        definitions: () => host.definitions(),
        nextChange: (waitMs) => host.nextChange(waitMs),
        clock,
      });
      parts.chainHost = host;
      parts.chains = requests;
      parts.chainCoordinator = coordinator;
      return {
        onFailure: (listener) => host.onFailure(listener),
        close: async () => {
          delete parts.chains;
          delete parts.chainHost;
          delete parts.chainCoordinator;
          links.stop();
          await coordinator.stop();
          await host.close();
        },
      };
    },
  };
}

/**
 * The client port's view of the chains service: calls reach the running service, or fail with
 * CHAIN_UNAVAILABLE (not written) while it is starting or restarting. The client port starts
 * before the control plane the service needs, so it is given this rather than the service.
 */
export function chainsBackendOf(parts: { readonly chains?: ChainsBackend }): ChainsBackend {
  const running = (name: string): ChainsBackend => {
    const chains = parts.chains;
    if (chains === undefined)
      throw new ChainUnavailableError(name, 'the chains service of this node is not running');
    return chains;
  };
  return {
    create: async (input) => running(input.name).create(input),
    delete: async (name) => running(name).delete(name),
    append: async (name, payloads, timeoutMs) => running(name).append(name, payloads, timeoutMs),
    read: async (name, fromOffset, limit, maxBytes) => running(name).read(name, fromOffset, limit, maxBytes),
    // Asked when iterated, so a subscription opened while the service restarts fails as unavailable.
    subscribe: (name, fromOffset, signal) => {
      let opened: ChainRecordStream | undefined;
      const open = (): ChainRecordStream => {
        opened ??= running(name).subscribe(name, fromOffset, signal);
        return opened;
      };
      return {
        batches: () => open().batches(),
        [Symbol.asyncIterator]: () => open()[Symbol.asyncIterator](),
        get position() {
          return opened?.position ?? fromOffset;
        },
      };
    },
    status: async (name) => running(name).status(name),
    list: async () => running('*').list(),
  };
}
