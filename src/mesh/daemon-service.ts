/**
 * The `daemons` service of a node's supervision tree, voters and workers alike (docs/DAEMONS.md):
 * it follows the deployed daemons' definitions, runs the members placed on this node over their
 * chains, serves the node's `DaemonsBackend` (and other nodes' forwarded sends on the daemons
 * channel of the peer transport). Restartable: a member's state is rebuilt from its checkpoint
 * (`<data>/daemons/<name>.checkpoint`) and the inbound chain's tail; it starts after the chains
 * service it runs on.
 */
import * as path from 'node:path';
import type { DaemonsBackend } from '../api/daemons-backend.js';
import { ChainDirectory } from '../chains/index.js';
import { DaemonUnavailableError } from '../daemons/cluster-errors.js';
import { loadKindCatalog } from '../daemons/node/index.js';
import { PEER_CHANNEL } from '../lib/index.js';
import { daemonChainDefinitions } from './daemon-chain-takeover.js';
import { DiskCheckpointStore } from './daemon-checkpoint-store.js';
import { checkpointThresholdsOf } from './daemon-member-checkpoints.js';
import { openDaemonsNode } from './daemon-node.js';
import { placementNodes } from './maintenance-service.js';
import { type CommonServiceContext, part, SERVICE } from './node-parts.js';
import type { NodeService } from './node-service.js';

export function daemonsService(context: CommonServiceContext): NodeService {
  const { parts, clock, random, logger, disk } = context;
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
      const chainDirectory = new ChainDirectory(plane, { clock });
      const daemonsNode = openDaemonsNode({
        self,
        plane,
        chains,
        chainDirectory,
        catalog,
        link: part(parts, 'channels').link(PEER_CHANNEL.daemons),
        checkpoints: new DiskCheckpointStore(disk, path.join(context.config.dataDirectory, 'daemons'), log),
        checkpointEvery: checkpointThresholdsOf(context.config.daemonCheckpointEvents),
        nodes: () => placementNodes(membership.view, parts.maintenance),
        onNodesChange: (listener) => membership.view.onChange(() => listener()),
        registration: {
          lease: () => membership.registration.lease,
          onRegistered: (listener) => membership.registration.onRegistered(listener),
        },
        rttMs: (node) => parts.proximityMatrix?.()?.rows.get(self)?.peers.get(node)?.rttMs,
        chainsOf: (daemon) => daemonChainDefinitions(chainDirectory, daemon),
        clock,
        random: random.fork('daemon-coordinator'),
        ...(log === undefined ? {} : { logger: log }),
      });
      parts.daemons = daemonsNode.requests;
      parts.daemonMembers = daemonsNode.members;
      return {
        close: async () => {
          delete parts.daemons;
          delete parts.daemonMembers;
          await daemonsNode.close();
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
    outputs: (name, fromSequence, follow, signal, memberIndex) => ({
      [Symbol.asyncIterator]: () =>
        running(name).outputs(name, fromSequence, follow, signal, memberIndex)[Symbol.asyncIterator](),
    }),
    move: async (name, to, timeoutMs) => running(name).move(name, to, timeoutMs),
    remove: async (name) => running(name).remove(name),
  };
}
