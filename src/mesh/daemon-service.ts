/**
 * The `daemons` service of a node's supervision tree, voters and workers alike (docs/DAEMONS.md):
 * it follows the deployed daemons' definitions, runs the members placed on this node over their
 * chains, serves the node's `DaemonsBackend` (and other nodes' forwarded sends on the daemons
 * channel of the peer transport). Restartable: a member's state is rebuilt by replaying its
 * inbound chain; it starts after the chains service it runs on.
 */
import type { DaemonsBackend } from '../api/daemons-backend.js';
import { ChainDirectory } from '../chains/index.js';
import { DaemonUnavailableError } from '../daemons/cluster-errors.js';
import { DaemonDirectory, type StoredDaemon } from '../daemons/directory.js';
import { loadKindCatalog } from '../daemons/node/index.js';
import type { DaemonPlacementNode } from '../daemons/placement.js';
import { ChangeWaiters, PEER_CHANNEL } from '../lib/index.js';
import { DaemonCoordinator } from './daemon-coordinator.js';
import { DaemonMembers } from './daemon-members.js';
import { DaemonPeerRequests } from './daemon-peer-requests.js';
import { DaemonRequests } from './daemon-requests.js';
import { type CommonServiceContext, part, SERVICE } from './node-parts.js';
import type { NodeService } from './node-service.js';

export function daemonsService(context: CommonServiceContext): NodeService {
  const { parts, clock, random, logger } = context;
  return {
    name: SERVICE.daemons,
    role: 'deployed daemons: the members placed on this node, events from any node',
    dependsOn: [SERVICE.transport, SERVICE.controlPlane, SERVICE.membership, SERVICE.chains],
    policy: 'restartable',
    async open() {
      const self = part(parts, 'identity').id;
      const plane = part(parts, 'controlPlane');
      const membership = part(parts, 'membership');
      const chains = part(parts, 'chains');
      const log = logger?.child({ part: 'daemons' });
      // The CLI loaded these before the node started (a failing module stops the start there).
      const catalog = await loadKindCatalog(context.config.daemonModules ?? []);
      const directory = new DaemonDirectory(plane);
      const chainDirectory = new ChainDirectory(plane, { clock });
      const peers = new DaemonPeerRequests(part(parts, 'channels').link(PEER_CHANNEL.daemons), clock, log);
      const members = new DaemonMembers({
        self,
        catalog,
        chains,
        clock,
        ...(log === undefined ? {} : { logger: log }),
      });
      const changed = new ChangeWaiters(clock);
      let coordinator: DaemonCoordinator | undefined;
      const follower = directory.follow((daemons: ReadonlyMap<string, StoredDaemon>) => {
        members.reconcile(daemons);
        coordinator?.notify();
        changed.wakeAll();
      }, clock);
      const nodes = (): DaemonPlacementNode[] =>
        membership.view.nodes().map((node) => ({ id: node.record.id, healthy: node.health === 'alive' }));
      const requests = new DaemonRequests({
        self,
        directory,
        chainDirectory,
        chains,
        catalog,
        members,
        peers,
        definitions: () => follower.daemons,
        nextChange: (timeoutMs) => changed.next(timeoutMs),
        nodes,
        clock,
        ...(log === undefined ? {} : { logger: log }),
      });
      coordinator = new DaemonCoordinator({
        plane,
        directory,
        self,
        definitions: () => follower.daemons,
        nodes,
        onNodesChange: (listener) => membership.view.onChange(() => listener()),
        progressOf: (name, node) => requests.progressOf(name, node),
        rttMs: (node) => parts.proximityMatrix?.()?.rows.get(self)?.peers.get(node)?.rttMs,
        leadChain: async (chain, leader, healthy) => {
          const current = await chainDirectory.get(chain);
          const definition = current?.definition;
          if (current === undefined || definition === undefined) return;
          if (definition.leader !== undefined && healthy.has(definition.leader)) return;
          if (!definition.replicas.includes(leader)) return;
          await chainDirectory.proposeNextEpoch(chain, { expectedModRevision: current.modRevision, leader });
        },
        clock,
        random: random.fork('daemon-coordinator'),
        ...(log === undefined ? {} : { logger: log.child({ part: 'daemon-coordinator' }) }),
      });
      coordinator.start();
      parts.daemons = requests;
      return {
        close: async () => {
          delete parts.daemons;
          await coordinator?.stop();
          follower.stop();
          peers.close();
          await members.close();
          changed.wakeAll();
        },
      };
    },
  };
}

/**
 * The client port's view of the daemons service: calls reach the running service, or fail with
 * DAEMON_UNAVAILABLE (nothing appended) while it is starting or restarting.
 */
export function daemonsBackendOf(parts: { readonly daemons?: DaemonsBackend }): DaemonsBackend {
  const running = (name: string): DaemonsBackend => {
    const daemons = parts.daemons;
    if (daemons === undefined)
      throw new DaemonUnavailableError(name, 'the daemons service of this node is not running');
    return daemons;
  };
  return {
    deploy: async (input) => running(input.name).deploy(input),
    list: async () => running('*').list(),
    status: async (name) => running(name).status(name),
    send: async (name, event, timeoutMs) => running(name).send(name, event, timeoutMs),
    state: async (name, memberIndex) => running(name).state(name, memberIndex),
    outputs: (name, fromSequence, follow, signal) => ({
      [Symbol.asyncIterator]: () =>
        running(name).outputs(name, fromSequence, follow, signal)[Symbol.asyncIterator](),
    }),
    move: async (name, to, timeoutMs) => running(name).move(name, to, timeoutMs),
    remove: async (name) => running(name).remove(name),
  };
}
