/**
 * A deploy request checked before anything is placed: the name, kind, group and member count,
 * the standby mode and acks policy, and a fork group's parent. Every problem is named in one
 * `ValidationError`. Whether the kind exists and accepts the config is the catalog's to say, and
 * whether a fork's parent exists and fits, the control plane's (the deploying node checks them).
 */

import type { DaemonDeployInput } from '../api/daemons-backend.js';
import { ACKS_POLICIES, type AcksPolicy } from '../chains/index.js';
import { InputProblems } from '../lib/index.js';
import {
  checkDaemonName,
  checkKindName,
  DAEMON_GROUP_KINDS,
  memberCountRange,
  STANDBY_MODES,
} from './definition-codec.js';
import type { DaemonGroupKind, StandbyMode } from './types.js';

export interface DaemonDeploySpec {
  readonly name: string;
  readonly kind: string;
  readonly group: DaemonGroupKind;
  readonly memberCount: number;
  readonly config: unknown;
  readonly standbyMode: StandbyMode;
  readonly acks: AcksPolicy;
  /** A fork group's parent and fork point (undefined: the parent's inbound commit offset). */
  readonly forkOf?: { readonly parent: string; readonly inboundOffset: number | undefined };
}

export function validateDaemonDeploy(input: DaemonDeployInput): DaemonDeploySpec {
  const problems = new InputProblems();
  if (!problems.record('deploy', input)) problems.throwIfAny('daemon deploy');
  checkDaemonName(problems, input.name);
  checkKindName(problems, input.kind);
  problems.oneOf('group', input.group, DAEMON_GROUP_KINDS);
  const group = input.group;
  if (group === 'fork') forkOfProblems(problems, input.forkOf);
  else if (input.forkOf !== undefined) problems.add('forkOf is for fork groups only');
  if (DAEMON_GROUP_KINDS.includes(group)) {
    const [min, max] = memberCountRange(group);
    problems.integer('members', input.members, min, max);
  }
  if (input.standbyMode !== undefined) problems.oneOf('standbyMode', input.standbyMode, STANDBY_MODES);
  if (input.acks !== undefined) problems.oneOf('acks', input.acks, ACKS_POLICIES);
  problems.throwIfAny('daemon deploy');
  return {
    name: input.name,
    kind: input.kind,
    group,
    memberCount: input.members,
    config: input.config,
    standbyMode: input.standbyMode ?? 'hot',
    acks: input.acks ?? 'quorum',
    ...(input.forkOf === undefined
      ? {}
      : { forkOf: { parent: input.forkOf.parent, inboundOffset: input.forkOf.inboundOffset } }),
  };
}

/** A fork group names its parent; its fork point, when given, is an inbound offset. */
function forkOfProblems(problems: InputProblems, forkOf: DaemonDeployInput['forkOf']): void {
  if (!problems.record('forkOf', forkOf)) return;
  if (typeof forkOf.parent !== 'string') problems.add('forkOf.parent must be a daemon name');
  else checkDaemonName(problems, forkOf.parent);
  if (forkOf.inboundOffset !== undefined)
    problems.integer('forkOf.inboundOffset', forkOf.inboundOffset, 0, Number.MAX_SAFE_INTEGER);
}
