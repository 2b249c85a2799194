/**
 * A node's daemons parts wired together: the definitions it follows drive its members (started,
 * updated, stopped), wake the coordinator and the sends waiting for a change; `DaemonRequests`
 * serves the node's `DaemonsBackend` and the other nodes' requests; the coordinator fails over
 * daemons whose active's node is gone. The daemons service opens one per start; tests open
 * several over in-memory chains and a shared control plane.
 */
import type { ChainsBackend } from '../api/index.js';
import type { ChainDirectory } from '../chains/index.js';
import type { ControlPlane } from '../control/index.js';
import { DaemonDirectory } from '../daemons/directory.js';
import type { DaemonPlacementNode } from '../daemons/placement.js';
import type { DaemonKindCatalog } from '../daemons/types.js';
import { ChangeWaiters, type Clock, type Logger, type NodeId, type Random } from '../lib/index.js';
import type { PeerChannelLink } from '../server/index.js';
import { DaemonCoordinator, type DaemonCoordinatorOptions } from './daemon-coordinator.js';
import { DaemonMembers } from './daemon-members.js';
import { DaemonPeerRequests } from './daemon-peer-requests.js';
import { DaemonRequests } from './daemon-requests.js';

export interface DaemonsNodeOptions {
  readonly self: NodeId;
  readonly plane: ControlPlane;
  readonly chains: ChainsBackend;
  readonly chainDirectory: Pick<ChainDirectory, 'create' | 'delete'>;
  readonly catalog: DaemonKindCatalog;
  /** The daemons channel of the peer transport. */
  readonly link: PeerChannelLink;
  /** The mesh's nodes and whether each can run a member now. */
  readonly nodes: () => readonly DaemonPlacementNode[];
  readonly onNodesChange: DaemonCoordinatorOptions['onNodesChange'];
  readonly rttMs: DaemonCoordinatorOptions['rttMs'];
  readonly leadChain?: DaemonCoordinatorOptions['leadChain'];
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
}

export interface DaemonsNode {
  readonly directory: DaemonDirectory;
  readonly members: DaemonMembers;
  readonly requests: DaemonRequests;
  readonly coordinator: DaemonCoordinator;
  /** Stops the coordinator, the following, the peer requests and the members, in that order. */
  close(): Promise<void>;
}

export function openDaemonsNode(options: DaemonsNodeOptions): DaemonsNode {
  const { self, plane, chains, catalog, nodes, clock, logger } = options;
  const withLogger = logger === undefined ? {} : { logger };
  const directory = new DaemonDirectory(plane);
  const peers = new DaemonPeerRequests(options.link, clock, logger);
  const members = new DaemonMembers({ self, catalog, chains, clock, ...withLogger });
  const changed = new ChangeWaiters(clock);
  let coordinator: DaemonCoordinator | undefined;
  const follower = directory.follow((daemons) => {
    members.reconcile(daemons);
    coordinator?.notify();
    changed.wakeAll();
  }, clock);
  const requests = new DaemonRequests({
    self,
    directory,
    chainDirectory: options.chainDirectory,
    chains,
    catalog,
    members,
    peers,
    definitions: () => follower.daemons,
    nextChange: (timeoutMs) => changed.next(timeoutMs),
    nodes,
    clock,
    ...withLogger,
  });
  coordinator = new DaemonCoordinator({
    plane,
    directory,
    self,
    definitions: () => follower.daemons,
    nodes,
    onNodesChange: options.onNodesChange,
    progressOf: (name, node) => requests.progressOf(name, node),
    rttMs: options.rttMs,
    ...(options.leadChain === undefined ? {} : { leadChain: options.leadChain }),
    clock,
    random: options.random,
    ...(logger === undefined ? {} : { logger: logger.child({ part: 'daemon-coordinator' }) }),
  });
  coordinator.start();
  const started = coordinator;
  return {
    directory,
    members,
    requests,
    coordinator: started,
    async close() {
      await started.stop();
      follower.stop();
      peers.close();
      await members.close();
      changed.wakeAll();
    },
  };
}
