/**
 * A deploy request checked before anything is placed: the name, kind, group and member count,
 * the standby mode and acks policy. Every problem is named in one `ValidationError`. Whether the
 * kind exists and accepts the config is the catalog's to say (the deploying node checks both).
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

/** The groups this version runs across nodes; the others are refused at deploy. */
export const CLUSTER_DAEMON_GROUPS: readonly DaemonGroupKind[] = ['single', 'standby'];

export interface DaemonDeploySpec {
  readonly name: string;
  readonly kind: string;
  readonly group: DaemonGroupKind;
  readonly memberCount: number;
  readonly config: unknown;
  readonly standbyMode: StandbyMode;
  readonly acks: AcksPolicy;
}

export function validateDaemonDeploy(input: DaemonDeployInput): DaemonDeploySpec {
  const problems = new InputProblems();
  if (!problems.record('deploy', input)) problems.throwIfAny('daemon deploy');
  checkDaemonName(problems, input.name);
  checkKindName(problems, input.kind);
  problems.oneOf('group', input.group, DAEMON_GROUP_KINDS);
  const group = input.group;
  if (DAEMON_GROUP_KINDS.includes(group) && !CLUSTER_DAEMON_GROUPS.includes(group))
    problems.add(`group ${group} is not run across nodes yet (${CLUSTER_DAEMON_GROUPS.join(', ')} are)`);
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
  };
}
