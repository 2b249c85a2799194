/**
 * `StartDaemon {daemon, node}` as the reconcile service's `daemons` owner carries it out
 * (docs/RECONCILE.md "Owners"), by what the definition names on `node` and on the down nodes:
 *
 * - a member on `node` already: it crashed, and the node is asked to restart it
 *   (`reconcile/restarts/<node>/<daemon>`, with the crash count the node reported);
 * - a standby (or fork member) on a down node: moved to `node` by a compare-and-swap of the
 *   definition; the active and the epoch stay, the member replays the inbound chain there;
 * - the active on a down node with no other member on a live node (a `single` daemon, or a group
 *   that lost every member): no standby can be promoted, so the active itself is restarted on
 *   `node` at `epoch + 1` (`withMemberOn`), and the daemon's chains that `node` replicates are led
 *   from it in the same transaction (`chainTakeover`). The new member starts with no checkpoint
 *   of its own (the old node's disk is out of reach) and replays the inbound chain; the raised
 *   epoch fences the old member if its node was only cut off (the epoch rule on the inbound
 *   chain, and its lease check stops it taking events once its registration lapsed);
 * - an active whose node is down while a standby lives: refused, the daemon coordinator promotes
 *   the standby first; a replica group's member: refused, the coordinator moves it;
 * - no member on a down node (an operator asked for more members, `reconcile/desired/<daemon>`):
 *   a standby on `node` with the next index.
 *
 * Every write carries the term's fence; asked again once done, it finds nothing to change.
 */
import type { StoredChain } from '../chains/index.js';
import { type ControlPlane, reconcileReportKey, reconcileRestartKey } from '../control/index.js';
import { memberCountRange } from '../daemons/definition-codec.js';
import {
  type DaemonDirectory,
  memberNode,
  type StoredDaemon,
  withAddedMember,
  withMemberOn,
  withReplacedMember,
} from '../daemons/directory.js';
import type { DaemonDefinition } from '../daemons/types.js';
import type { NodeId } from '../lib/index.js';
import type { PendingAction } from '../reconcile/index.js';
import { chainTakeover, NO_CHAIN_TAKEOVER } from './daemon-chain-takeover.js';
import { ReconcileActionRefusedError, ReconcileTermFencedError } from './reconcile-errors.js';
import type { ReconcileTerm } from './reconcile-hub.js';
import { type RestartRecord, readNodeReport } from './reconcile-records.js';
import { fencedPut } from './reconcile-writes.js';

/** A restart request the node did not take up (it went down) is gone after this. */
export const RESTART_REQUEST_TTL_SECONDS = 60;

export interface DaemonStartOptions {
  readonly plane: ControlPlane;
  readonly directory: DaemonDirectory;
  /** Whether a node is registered now (a member on an unregistered node may be re-placed). */
  readonly isRegistered: (node: NodeId) => boolean;
  /** The daemon's chains as the control plane holds them (absent: a restarted active leads none at once). */
  readonly chainsOf?: (daemon: DaemonDefinition) => Promise<readonly StoredChain[]>;
}

export async function startDaemon(
  options: DaemonStartOptions,
  daemon: string,
  node: NodeId,
  pending: PendingAction,
  term: ReconcileTerm,
): Promise<void> {
  const stored = await options.directory.get(daemon);
  // Removed meanwhile: nothing to start.
  if (stored === undefined) return;
  const { definition } = stored;
  if (definition.members.some((member) => member.node === node))
    return askRestart(options.plane, daemon, node, pending, term);
  if (definition.group === 'replica')
    throw new ReconcileActionRefusedError(
      'StartDaemon',
      `daemon ${daemon} is a replica group: the daemon coordinator moves its members at a new epoch`,
    );
  const gone = definition.members.filter((member) => !options.isRegistered(member.node));
  const movable = gone.find((member) => member.index !== definition.active);
  if (movable !== undefined)
    return swapOrRefuse(options, stored, withReplacedMember(definition, movable.index, node), term);
  const activeNode = memberNode(definition, definition.active);
  if (definition.active === undefined || activeNode === undefined || options.isRegistered(activeNode))
    return addMember(options, stored, node, term);
  if (gone.length < definition.members.length)
    throw new ReconcileActionRefusedError(
      'StartDaemon',
      `daemon ${daemon}'s active is on node ${activeNode}, which is down: a standby is promoted first`,
    );
  const chains = (await options.chainsOf?.(definition).catch(() => undefined)) ?? [];
  return swapOrRefuse(
    options,
    stored,
    withMemberOn(definition, definition.active, node),
    term,
    chains.length === 0 ? NO_CHAIN_TAKEOVER : chainTakeover(chains, node),
  );
}

/**
 * Nothing to re-place, so reconcile asks for more members than the definition places (an
 * operator's count, `reconcile/desired/<daemon>`): a standby on `node` (the next index), which
 * starts from the active's checkpoint and the chain like any new member.
 */
async function addMember(
  options: DaemonStartOptions,
  stored: StoredDaemon,
  node: NodeId,
  term: ReconcileTerm,
): Promise<void> {
  const { definition } = stored;
  const [, max] = memberCountRange(definition.group);
  if (definition.group === 'single' || definition.members.length >= max)
    throw new ReconcileActionRefusedError(
      'StartDaemon',
      `daemon ${definition.name} has no member on a down node to re-place on node ${node}, and its ${definition.group} group has its most members`,
    );
  return swapOrRefuse(options, stored, withAddedMember(definition, node), term);
}

/** The node restarts its crashed member only if it has not crashed since the count it reported. */
async function askRestart(
  plane: ControlPlane,
  daemon: string,
  node: NodeId,
  pending: PendingAction,
  term: ReconcileTerm,
): Promise<void> {
  const reportEntry = await plane.get(reconcileReportKey(node));
  const reported =
    reportEntry === undefined
      ? undefined
      : readNodeReport(reportEntry.key, reportEntry.value).daemons.find((member) => member.name === daemon);
  const record: RestartRecord = { actionId: pending.id, epoch: term.epoch, crashes: reported?.crashes ?? 0 };
  await fencedPut(plane, term, reconcileRestartKey(node, daemon), record, RESTART_REQUEST_TTL_SECONDS);
}

async function swapOrRefuse(
  options: DaemonStartOptions,
  stored: StoredDaemon,
  next: DaemonDefinition,
  term: ReconcileTerm,
  takeover = NO_CHAIN_TAKEOVER,
): Promise<void> {
  const answer = await options.directory.swap(stored, next, term.fence, takeover);
  if (answer.applied) return;
  // The definition unchanged: the term's fence or a chain's compare failed.
  if (answer.fenced && takeover.chains.length === 0) throw new ReconcileTermFencedError(term.epoch);
  throw new ReconcileActionRefusedError(
    'StartDaemon',
    answer.fenced
      ? `daemon ${next.name}'s chains changed meanwhile, or the term was fenced`
      : `daemon ${next.name}'s definition changed meanwhile`,
  );
}
