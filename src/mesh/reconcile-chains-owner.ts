/**
 * The `placement` and `replicas` owners of the reconcile service (docs/RECONCILE.md "Owners"):
 * chain membership changes through the chains' own fenced compare-and-swaps, each also fenced by
 * the reconciler term.
 *
 * - `RequestPlacement {chain, target}`: `target` becomes a learner (it catches up from the
 *   leader); already a replica or learner: nothing to do.
 * - `RequestEviction {chain, victim}`: a learner is removed; a replica is replaced by a caught-up
 *   learner (promoted in its place, a new epoch), which reconcile asks for only once one caught
 *   up; gone already: nothing to do.
 * - `PullReplica`, `DropReplica`: nothing to write — a node's chain host opens the replicas the
 *   definitions name it for and closes the others.
 */
import { type ChainDirectory, ChainFencedError, ChainNotFoundError } from '../chains/index.js';
import type { NodeId } from '../lib/index.js';
import type { PendingAction } from '../reconcile/index.js';
import { ReconcileActionRefusedError, ReconcileTermFencedError } from './reconcile-errors.js';
import type { ReconcileDispatch, ReconcileOwner } from './reconcile-hub.js';

export interface ChainsOwnerOptions {
  readonly directory: ChainDirectory;
  /** Learners of `chain` its leader counts as caught up now. */
  readonly caughtUp: (chain: string) => ReadonlySet<NodeId>;
}

export function placementOwner(options: ChainsOwnerOptions): ReconcileOwner {
  const { directory } = options;
  return {
    async handle(pending: PendingAction, { term }: ReconcileDispatch): Promise<void> {
      const { action } = pending;
      const write = { fence: term.fence };
      try {
        if (action.kind === 'RequestPlacement') {
          if (action.target === undefined)
            throw new ReconcileActionRefusedError(
              action.kind,
              'a placement without a target is not carried out',
            );
          const stored = await directory.get(action.chain);
          if (stored === undefined) return;
          const { replicas, learners = [] } = stored.definition;
          if (replicas.includes(action.target) || learners.includes(action.target)) return;
          await directory.addLearner(action.chain, action.target, {
            ...write,
            expectedModRevision: stored.modRevision,
          });
          return;
        }
        if (action.kind === 'RequestEviction') {
          const stored = await directory.get(action.chain);
          if (stored === undefined) return;
          const { replicas, learners = [] } = stored.definition;
          if (learners.includes(action.victim)) {
            await directory.removeLearner(action.chain, action.victim, {
              ...write,
              expectedModRevision: stored.modRevision,
            });
            return;
          }
          if (!replicas.includes(action.victim)) return;
          const caughtUp = options.caughtUp(action.chain);
          const learner = learners.find((node) => caughtUp.has(node));
          if (learner === undefined)
            throw new ReconcileActionRefusedError(
              action.kind,
              `no caught-up learner of ${action.chain} to take node ${action.victim}'s place`,
            );
          await directory.promoteLearner(action.chain, learner, action.victim, {
            ...write,
            expectedModRevision: stored.modRevision,
          });
          return;
        }
      } catch (error) {
        if (error instanceof ChainFencedError) throw new ReconcileTermFencedError(term.epoch);
        if (error instanceof ChainNotFoundError) return;
        throw error;
      }
      throw new ReconcileActionRefusedError(action.kind, 'the placement owner does not carry it out');
    },
  };
}

/** Pulls and drops are the chain hosts' own: they follow the definitions. */
export const replicasOwner: ReconcileOwner = {
  async handle(pending: PendingAction): Promise<void> {
    const { kind } = pending.action;
    if (kind !== 'PullReplica' && kind !== 'DropReplica')
      throw new ReconcileActionRefusedError(kind, 'the replicas owner does not carry it out');
  },
};
