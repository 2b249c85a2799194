/**
 * Which daemons a simulated run deploys (docs/SIMULATION.md "Daemons"), and the lanes the checks
 * walk: one per inbound chain, the daemon's for a standby or fork group, one per member for a
 * replica group (each member has its own chains and its own order).
 */
import { inboundChainName, memberChains, outputChainName } from '../daemons/chain-names.js';
import { ValidationError } from '../lib/index.js';

/** The group kinds a run can deploy. */
export type SimDaemonGroup = 'standby' | 'replica' | 'fork';
export const SIM_DAEMON_GROUPS: readonly SimDaemonGroup[] = ['standby', 'replica', 'fork'];

export interface DaemonPlan {
  readonly name: string;
  readonly group: SimDaemonGroup;
  /** Members wanted (at most the cluster's nodes). */
  readonly members: number;
  /** A fork group's parent (deployed before it, and sent a few events first). */
  readonly parent?: string;
  /** A replica group's senders' routing keys (one sender sends without a key: routed by client id). */
  readonly keys?: readonly string[];
}

/** Routing keys of the replica group's senders: shared, so several senders write each key. */
const REPLICA_KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'] as const;

const STANDBY_PLANS: readonly DaemonPlan[] = [
  { name: 'journal-a', group: 'standby', members: 3 },
  { name: 'journal-b', group: 'standby', members: 2 },
];
const REPLICA_PLAN: DaemonPlan = { name: 'journal-r', group: 'replica', members: 3, keys: REPLICA_KEYS };
const FORK_PLAN: DaemonPlan = { name: 'journal-f', group: 'fork', members: 2, parent: 'journal-a' };

/**
 * The plans of a run deploying `groups`: the standby groups `journal-a` (3) and `journal-b` (2),
 * the replica group `journal-r` (3), the fork `journal-f` (2) of `journal-a` (deployed for it
 * when standby groups are not asked for).
 */
export function daemonPlans(groups: readonly SimDaemonGroup[]): DaemonPlan[] {
  const plans: DaemonPlan[] = [];
  if (groups.includes('standby')) plans.push(...STANDBY_PLANS);
  else if (groups.includes('fork')) plans.push(STANDBY_PLANS[0]!);
  if (groups.includes('replica')) plans.push(REPLICA_PLAN);
  if (groups.includes('fork')) plans.push(FORK_PLAN);
  return plans;
}

/** A comma list of group kinds, or `all`; VALIDATION_FAILED naming what is unknown. */
export function parseDaemonGroups(text: string): SimDaemonGroup[] {
  if (text === 'all') return [...SIM_DAEMON_GROUPS];
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(SIM_DAEMON_GROUPS as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0)
    throw new ValidationError('--daemon-groups', [
      `unknown group kinds ${JSON.stringify(unknown)}: choose from ${SIM_DAEMON_GROUPS.join(', ')} or all`,
    ]);
  return names as SimDaemonGroup[];
}

/** One inbound chain the checks follow: a daemon's, or a replica member's. */
export interface DaemonLane {
  readonly plan: DaemonPlan;
  /** A replica member's index; undefined for a group's one chain (every member follows it). */
  readonly member: number | undefined;
  readonly inbound: string;
  readonly outputs: string;
  /** The daemon's name, or `<daemon>/<member>`. */
  readonly label: string;
}

/** The lanes of `plan` once deployed with `memberCount` members. */
export function lanesOf(plan: DaemonPlan, memberCount: number): DaemonLane[] {
  if (plan.group !== 'replica')
    return [
      {
        plan,
        member: undefined,
        inbound: inboundChainName(plan.name),
        outputs: outputChainName(plan.name),
        label: plan.name,
      },
    ];
  return Array.from({ length: memberCount }, (_, member) => ({
    plan,
    member,
    ...memberChains({ name: plan.name, group: 'replica' }, member),
    label: `${plan.name}/${member}`,
  }));
}
