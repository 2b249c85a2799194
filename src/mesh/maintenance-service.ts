/**
 * The `maintenance` service of a node's supervision tree, voters and workers alike: it follows
 * every node's maintenance record (`MaintenanceView`, which placement asks before it places a
 * daemon member or a chain replica) and runs this node's `MaintenanceAgent`, which drains the
 * node when it is asked to enter maintenance. Restartable: its state is the records in the
 * control plane. It starts before chains and daemons, which read its view; it reaches the
 * daemons service, which starts after it, only when it drains. A drain also waits for the blob
 * copies the node holds to have their replica count elsewhere (read from the blob records).
 */

import type { DaemonsBackend } from '../api/daemons-backend.js';
import { type ChainDefinition, ChainDirectory } from '../chains/index.js';
import { DaemonUnavailableError } from '../daemons/cluster-errors.js';
import { DaemonDirectory } from '../daemons/directory.js';
import type { DaemonPlacementNode } from '../daemons/placement.js';
import { BlobCatalog } from './blob-catalog.js';
import { type DrainDaemons, MaintenanceAgent } from './maintenance-agent.js';
import { MaintenanceOwner } from './maintenance-owner.js';
import { MaintenanceStore } from './maintenance-store.js';
import { MaintenanceView } from './maintenance-view.js';
import type { MembershipView } from './membership-view.js';
import { type CommonServiceContext, part, SERVICE } from './node-parts.js';
import type { NodeService } from './node-service.js';
import { reconcileHubOf } from './reconcile-hub.js';

export function maintenanceService(context: CommonServiceContext): NodeService {
  const { parts, clock, logger } = context;
  return {
    name: SERVICE.maintenance,
    role: "nodes' maintenance states (placement skips draining nodes); drains this node when asked",
    dependsOn: [SERVICE.controlPlane, SERVICE.membership],
    policy: 'restartable',
    async open() {
      const self = part(parts, 'identity').id;
      const plane = part(parts, 'controlPlane');
      const membership = part(parts, 'membership');
      const log = logger?.child({ part: 'maintenance' });
      const view = new MaintenanceView(plane, clock, log);
      const store = new MaintenanceStore(plane, clock);
      const daemonDirectory = new DaemonDirectory(plane);
      const chainDirectory = new ChainDirectory(plane, { clock });
      const blobCatalog = new BlobCatalog(plane, log);
      const daemons = (): DaemonsBackend => {
        const running = parts.daemons;
        if (running === undefined)
          throw new DaemonUnavailableError('*', 'the daemons service of this node is not running');
        return running;
      };
      const agent = new MaintenanceAgent({
        self,
        record: () => view.record(self),
        onChange: (listener) => view.onChange(listener),
        commit: (target) => store.commit(self, target),
        daemons: drainDaemonsOf(daemonDirectory, daemons),
        chains: () => allChains(chainDirectory),
        nodes: () => placementNodes(membership.view, view),
        blobs: () => blobCatalog.list(),
        keepsCopies: (node) => membership.view.get(node)?.health === 'alive' && !view.leaving(node),
        clock,
        ...(log === undefined ? {} : { logger: log }),
      });
      // The reconcile service: this node's owner of CommitMaintenanceTransition while it holds
      // the reconciler lease, and every node's state and requests for its passes (its placement
      // skips nodes that are not Active).
      const hub = reconcileHubOf(parts);
      const unregister = [
        hub.registerOwner(
          'maintenance',
          new MaintenanceOwner(store, { isUp: (node) => membership.view.get(node) !== undefined }),
        ),
        hub.registerStateSource('maintenance', {
          maintenance: () => ({ states: view.states(), requests: view.requests() }),
          onChange: (listener) => view.onChange(listener),
        }),
      ];
      parts.maintenance = view;
      agent.start();
      return {
        close: async () => {
          for (const stop of unregister) stop();
          delete parts.maintenance;
          await agent.stop();
          view.stop();
        },
      };
    },
  };
}

/** What a drain does to daemons, through the definitions in the plane and the node's daemons service. */
export function drainDaemonsOf(directory: DaemonDirectory, daemons: () => DaemonsBackend): DrainDaemons {
  return {
    list: () => directory.list(),
    syncedThrough: async (name) => {
      const status = await daemons().status(name);
      return new Map(status.members.map((member) => [member.index, member.syncedThrough]));
    },
    move: async (name, to, timeoutMs) => {
      await daemons().move(name, to, timeoutMs);
    },
    swap: async (stored, next) => (await directory.swap(stored, next)).applied,
  };
}

/** Every registered node as daemon placement sees it: healthy while alive, placeable while Active. */
export function placementNodes(
  view: MembershipView,
  maintenance: Pick<MaintenanceView, 'placeable'> | undefined,
): DaemonPlacementNode[] {
  return view.nodes().map((node) => ({
    id: node.record.id,
    healthy: node.health === 'alive',
    placeable: maintenance?.placeable(node.record.id) ?? true,
  }));
}

/** Every chain's definition, all pages at one revision. */
export async function allChains(directory: ChainDirectory): Promise<ChainDefinition[]> {
  const chains: ChainDefinition[] = [];
  let page = await directory.list();
  for (;;) {
    for (const stored of page.chains) chains.push(stored.definition);
    const last = page.chains[page.chains.length - 1];
    if (!page.more || last === undefined) return chains;
    page = await directory.list({ startAfter: last.definition.name, revision: page.revision });
  }
}
