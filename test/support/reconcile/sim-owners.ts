/**
 * The owners of actions in the simulated world: each carries its action out on the world and
 * reports to the executor, idempotently (doing a thing twice leaves the world as doing it once).
 * An action on a slow node is carried out one tick late; one on a down node fails.
 */
import { isMeshError, type NodeId } from '../../../src/lib/index.js';
import {
  type ActionHandler,
  type ActionOwners,
  applyMaintenanceTransition,
  nodeOf,
  type PendingAction,
  type ReconcileAction,
  wallFromMonotonic,
} from '../../../src/reconcile/index.js';
import { PULLED_REPLICA_LAG_RECORDS, type World } from './world.js';

/** Why an action could not be carried out, or undefined when it was. */
type Outcome = string | undefined;

export function simulatedOwners(world: World): ActionOwners {
  const handler = (carryOut: (action: ReconcileAction) => Outcome): ActionHandler => ({
    handle(pending: PendingAction) {
      const finish = () => {
        const failure = carryOut(pending.action);
        if (failure === undefined) world.executor.complete(pending.id, world.monotonicMs);
        else world.executor.fail(pending.id, failure, world.monotonicMs);
      };
      const node = nodeOf(pending.action);
      if (node !== undefined && world.nodes.get(node)?.slow === true) world.late.push(finish);
      else finish();
    },
  });
  return {
    daemons: handler((action) => daemonAction(world, action)),
    replicas: handler((action) => replicaAction(world, action)),
    placement: handler((action) => placementAction(world, action)),
    blobs: handler((action) => blobAction(world, action)),
    'avoid-list': handler((action) => {
      if (action.kind !== 'MarkAvoid') return `avoid list got ${action.kind}`;
      world.avoid.mark(action.peer, action.reason, action.ttlMs, world.wallMs());
      return undefined;
    }),
    maintenance: handler((action) => {
      if (action.kind !== 'CommitMaintenanceTransition') return `maintenance got ${action.kind}`;
      const node = world.node(action.node);
      try {
        node.maintenance = applyMaintenanceTransition(action.node, node.maintenance, action.target);
        return undefined;
      } catch (error) {
        if (isMeshError(error, 'MAINTENANCE_TRANSITION_INVALID')) return error.message;
        throw error;
      }
    }),
  };
}

function liveNode(world: World, id: NodeId) {
  const node = world.nodes.get(id);
  return node === undefined || node.health === 'down' ? undefined : node;
}

function daemonAction(world: World, action: ReconcileAction): Outcome {
  switch (action.kind) {
    case 'StartDaemon': {
      const node = liveNode(world, action.node);
      if (node === undefined) return `node ${action.node} is down`;
      const daemon = node.daemons.get(action.daemon);
      // A start takes until the end of the round (World.settle): a member is not running at once.
      if (daemon === undefined) {
        node.daemons.set(action.daemon, {
          running: false,
          starting: true,
          crashTimesWallMs: [],
          backoffUntilWallMs: undefined,
        });
      } else if (!daemon.running) daemon.starting = true;
      return undefined;
    }
    case 'StopDaemon':
      world.nodes.get(action.node)?.daemons.delete(action.daemon);
      return undefined;
    case 'ApplyBackoff': {
      const daemon = liveNode(world, action.node)?.daemons.get(action.daemon);
      if (daemon === undefined) return `no ${action.daemon} on node ${action.node}`;
      const untilWallMs = wallFromMonotonic(world.time(), action.untilMonotonicMs);
      daemon.backoffUntilWallMs = Math.max(daemon.backoffUntilWallMs ?? 0, untilWallMs);
      return undefined;
    }
    default:
      return `daemons got ${action.kind}`;
  }
}

function replicaAction(world: World, action: ReconcileAction): Outcome {
  switch (action.kind) {
    case 'PullReplica': {
      const node = liveNode(world, action.node);
      if (node === undefined) return `node ${action.node} is down`;
      if (!world.holdsLive(action.source, action.chain))
        return `node ${action.source} holds no ${action.chain}`;
      if (!node.replicas.has(action.chain)) node.replicas.set(action.chain, PULLED_REPLICA_LAG_RECORDS);
      return undefined;
    }
    case 'DropReplica':
      world.nodes.get(action.node)?.replicas.delete(action.chain);
      return undefined;
    default:
      return `replicas got ${action.kind}`;
  }
}

function placementAction(world: World, action: ReconcileAction): Outcome {
  if (action.kind !== 'RequestPlacement' && action.kind !== 'RequestEviction')
    return `placement got ${action.kind}`;
  const chain = world.chains.get(action.chain);
  if (chain === undefined) return `no chain ${action.chain}`;
  if (chain.leader !== action.leader) return `node ${action.leader} no longer leads ${action.chain}`;
  if (action.kind === 'RequestPlacement') {
    if (action.target === undefined) return 'the simulation has no placement scorer';
    if (!chain.members.includes(action.target)) chain.members.push(action.target);
    return undefined;
  }
  chain.members = chain.members.filter((member) => member !== action.victim);
  if (chain.leader === action.victim) chain.leader = undefined;
  return undefined;
}

function blobAction(world: World, action: ReconcileAction): Outcome {
  switch (action.kind) {
    case 'MigrateBlob': {
      const blob = world.blobs.get(action.blob);
      if (blob === undefined) return `no blob ${action.blob}`;
      if (liveNode(world, action.from) === undefined || !blob.holders.has(action.from))
        return `node ${action.from} holds no live copy of ${action.blob}`;
      if (liveNode(world, action.to) === undefined) return `node ${action.to} is down`;
      blob.holders.add(action.to);
      if (!action.keepSource) blob.holders.delete(action.from);
      return undefined;
    }
    case 'DropBlobCopy': {
      const blob = world.blobs.get(action.blob);
      if (blob === undefined) return `no blob ${action.blob}`;
      blob.holders.delete(action.node);
      return undefined;
    }
    case 'ReduceHeat': {
      const blob = world.blobs.get(action.blob);
      if (blob === undefined) return `no blob ${action.blob}`;
      blob.heat = Math.max(0, blob.heat - action.by);
      return undefined;
    }
    default:
      return `blobs got ${action.kind}`;
  }
}
