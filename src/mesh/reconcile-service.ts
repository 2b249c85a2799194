/**
 * The `reconcile` service of a node's supervision tree, voters and workers alike
 * (docs/RECONCILE.md): the node's reports and restarts (`ReconcileNode`), and its `Reconciler`,
 * which runs the mesh's reconcile passes while this node holds the reconciler lease. The owners
 * this service carries itself ('daemons', 'avoid-list') are registered on the node's hub unless a
 * part registered its own; other parts register theirs on the same hub (`reconcileHubOf`).
 * Restartable: its state is the control plane's; a restarted one follows it afresh.
 */
import {
  ChainDirectory,
  ChainUnavailableError,
  DEFAULT_CHAIN_GRACE_PERIOD_MS,
  StatusLearnerProgress,
} from '../chains/index.js';
import { RECONCILER_KEY } from '../control/index.js';
import { DEFAULT_DAEMON_REPAIR_GRACE_MS } from '../daemons/cluster-limits.js';
import type { ActionOwner } from '../reconcile/index.js';
import { AuditFeed } from './audit-feed.js';
import { daemonChainDefinitions } from './daemon-chain-takeover.js';
import { type CommonServiceContext, type NodeParts, part, SERVICE } from './node-parts.js';
import type { NodeService } from './node-service.js';
import { avoidListOwner } from './reconcile-avoid-owner.js';
import { placementOwner, replicasOwner } from './reconcile-chains-owner.js';
import { daemonsOwner } from './reconcile-daemons-owner.js';
import { type ReconcileHub, type ReconcileOwner, reconcileHubOf } from './reconcile-hub.js';
import { ReconcileNode } from './reconcile-node.js';
import { ReconcileState } from './reconcile-state.js';
import { Reconciler } from './reconciler.js';

export function reconcileService(context: CommonServiceContext): NodeService {
  const { config, parts, clock, random, logger } = context;
  return {
    name: SERVICE.reconcile,
    role: "the mesh's reconciler (while this node holds its lease); this node's reports and restarts",
    dependsOn: [SERVICE.controlPlane, SERVICE.membership, SERVICE.daemons],
    policy: 'restartable',
    async open() {
      const self = part(parts, 'identity').id;
      const plane = part(parts, 'controlPlane');
      const membership = part(parts, 'membership');
      const hub = reconcileHubOf(parts);
      const log = logger?.child({ part: 'reconcile' });
      const chainDirectory = new ChainDirectory(plane, { clock });
      // The chains' leaders' own view of their learners, asked through this node's chains service.
      const progress = new StatusLearnerProgress((name) => {
        const chains = parts.chains;
        if (chains === undefined)
          throw new ChainUnavailableError(name, 'the chains service of this node is not running');
        return chains.status(name);
      });
      const unregister = [
        registerUnlessTaken(
          hub,
          'daemons',
          daemonsOwner({
            plane,
            isRegistered: (node) => membership.view.get(node) !== undefined,
            chainsOf: (daemon) => daemonChainDefinitions(chainDirectory, daemon),
            clock,
          }),
        ),
        registerUnlessTaken(hub, 'avoid-list', avoidListOwner(plane, clock)),
        registerUnlessTaken(
          hub,
          'placement',
          placementOwner({ directory: chainDirectory, caughtUp: (chain) => progress.caughtUp(chain) }),
        ),
        registerUnlessTaken(hub, 'replicas', replicasOwner),
      ];
      // Every executor event of the terms this node holds goes into the audit chain.
      const audit = new AuditFeed({
        plane,
        seatKey: RECONCILER_KEY,
        clock,
        random: random.fork('audit'),
        ...(log === undefined ? {} : { logger: log }),
      });
      const unsubscribeAudit = hub.onEvent((record) => audit.record(record));
      parts.auditFeed = audit;
      const node = new ReconcileNode({
        self,
        plane,
        members: () => parts.daemonMembers,
        leaseId: () => membership.registration.leaseId,
        clock,
        ...(log === undefined ? {} : { logger: log }),
      });
      const reconciler = new Reconciler({
        plane,
        self,
        hub,
        openState: (handlers) =>
          new ReconcileState({
            plane,
            nodes: () => membership.view.nodes(),
            onNodesChange: (listener) => membership.view.onChange(() => listener()),
            proximity: () => parts.proximityMatrix?.(),
            hub,
            chains: { directory: chainDirectory, progress },
            maintenance: () => parts.maintenance,
            clock,
            ...(log === undefined ? {} : { logger: log }),
            ...handlers,
          }),
        reconcileOptions: {
          daemonDownGraceMs: config.daemonRepairGraceMs ?? DEFAULT_DAEMON_REPAIR_GRACE_MS,
          copyDownGraceMs: config.chainRepairGraceMs ?? DEFAULT_CHAIN_GRACE_PERIOD_MS,
        },
        clock,
        random: random.fork('reconciler'),
        ...(log === undefined ? {} : { logger: log }),
      });
      reconciler.start();
      parts.reconciler = reconciler;
      return {
        close: async () => {
          delete parts.reconciler;
          node.stop();
          // The term's last records are written while it still holds the seat.
          await audit.close();
          unsubscribeAudit();
          delete parts.auditFeed;
          await reconciler.stop();
          for (const stop of unregister) stop();
        },
      };
    },
  };
}

/**
 * What `/status` shows under `reconcile`: the reconciler as this node runs it, its members'
 * reports, and the audit recorder of the term this node holds or held last.
 */
export function reconcileStatusView(parts: NodeParts): Record<string, unknown> | undefined {
  const reconciler = parts.reconciler;
  if (reconciler === undefined) return undefined;
  const audit = parts.auditFeed?.status();
  return {
    ...reconciler.status(),
    members: parts.daemonMembers?.report() ?? [],
    ...(audit === undefined ? {} : { audit }),
  };
}

/** Registers `handler` for `owner` unless another part did; answers the unregister. */
function registerUnlessTaken(hub: ReconcileHub, owner: ActionOwner, handler: ReconcileOwner): () => void {
  return hub.owner(owner) === undefined ? hub.registerOwner(owner, handler) : () => {};
}
