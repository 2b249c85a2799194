/**
 * `StopDaemon {daemon, node, reason, deadline}` as the reconcile service's `daemons` owner carries
 * it out (docs/RECONCILE.md "Owners"): the member the definition places on `node` leaves the
 * definition by a compare-and-swap fenced by the term, and the node, following the definition,
 * stops it and drops its checkpoint file. Reconcile asks for it when a standby or fork daemon has
 * more members than asked for (`reconcile/desired/<daemon>`, `meshos daemon scale`).
 *
 * Member indices are positions, so the last member takes the freed index (its node restarts it
 * under that index from its own checkpoint); when the last member is the active, the active
 * index moves with it (a short pause while its node restarts it, as after a move's cutover).
 * Refused: a `single` or `replica` daemon (its members are its shares), the active, a group at its
 * smallest size, and an
 * action dispatched after its deadline (the view it was planned from is too old). No member on
 * the node: done (asked again once done, it finds nothing to change).
 */

import { memberCountRange } from '../daemons/definition-codec.js';
import type { DaemonDirectory } from '../daemons/directory.js';
import type { DaemonDefinition } from '../daemons/types.js';
import type { Clock, NodeId } from '../lib/index.js';
import { ReconcileActionRefusedError, ReconcileTermFencedError } from './reconcile-errors.js';
import type { ReconcileTerm } from './reconcile-hub.js';

export interface DaemonStopOptions {
  readonly directory: DaemonDirectory;
  readonly clock: Clock;
}

export async function stopDaemon(
  options: DaemonStopOptions,
  daemon: string,
  node: NodeId,
  deadlineMonotonicMs: number,
  term: ReconcileTerm,
): Promise<void> {
  const stored = await options.directory.get(daemon);
  const definition = stored?.definition;
  const member = definition?.members.find((candidate) => candidate.node === node);
  if (stored === undefined || definition === undefined || member === undefined) return;
  const refuse = (reason: string): never => {
    throw new ReconcileActionRefusedError(
      'StopDaemon',
      `daemon ${daemon}'s member on node ${node}: ${reason}`,
    );
  };
  if (options.clock.nowMs() > deadlineMonotonicMs) refuse('its deadline passed before it was carried out');
  if (definition.group === 'single' || definition.group === 'replica')
    refuse(`a ${definition.group} daemon's members are not stopped alone`);
  if (member.index === definition.active) refuse('it is the active (meshos daemon move it first)');
  const [min] = memberCountRange(definition.group);
  if (definition.members.length <= min) refuse(`a ${definition.group} group keeps at least ${min} members`);
  const answer = await options.directory.swap(stored, withoutMemberAt(definition, member.index), term.fence);
  if (answer.applied) return;
  if (answer.fenced) throw new ReconcileTermFencedError(term.epoch);
  refuse('its definition changed meanwhile');
}

/** The definition without member `index`; the last member takes its index (and the active with it). */
export function withoutMemberAt(definition: DaemonDefinition, index: number): DaemonDefinition {
  const last = definition.members[definition.members.length - 1]!;
  const members = definition.members
    .filter((member) => member.index !== last.index)
    .map((member) => (member.index === index ? { index, node: last.node } : member));
  if (last.index === index) return { ...definition, members };
  const active = definition.active === last.index ? index : definition.active;
  return { ...definition, members, ...(active === undefined ? {} : { active }) };
}
