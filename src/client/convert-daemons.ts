/** `meshos.v1.Daemons` answers -> the client's values (the same shapes the node's backend answers). */
import type { DaemonMoveResult, DaemonOutput, DaemonSendResult, DaemonStateResult } from '../api/index.js';
import type { DaemonDefinition, DaemonMemberStatus, DaemonStatus } from '../daemons/index.js';
import {
  ACKS_PB,
  DAEMON_GROUP_PB,
  MEMBER_ROLE_PB,
  type PbDaemonDefinition,
  type PbDaemonStatus,
  type PbMemberStatus,
  type PbMoveResponse,
  type PbOutput,
  type PbSendResponse,
  type PbStateResponse,
  STANDBY_MODE_PB,
} from '../protocol/index.js';
import { toNumber } from './convert.js';

function memberStatusFromPb(pb: PbMemberStatus): DaemonMemberStatus {
  return {
    index: pb.index,
    node: toNumber(pb.node),
    role: MEMBER_ROLE_PB.fromPb(pb.role) ?? 'standby',
    syncedThrough: toNumber(pb.synced_through),
    healthy: pb.healthy,
  };
}

export function daemonStatusFromPb(pb: PbDaemonStatus): DaemonStatus {
  return {
    name: pb.name,
    kind: pb.kind,
    group: DAEMON_GROUP_PB.fromPb(pb.group) ?? 'single',
    epoch: toNumber(pb.epoch),
    members: pb.members.map(memberStatusFromPb),
    inboundThrough: toNumber(pb.inbound_through),
    ...(pb.desired_members === null || pb.desired_members === undefined
      ? {}
      : { desiredMembers: pb.desired_members.count }),
  };
}

export function daemonDefinitionFromPb(pb: PbDaemonDefinition): DaemonDefinition {
  return {
    name: pb.name,
    kind: pb.kind,
    group: DAEMON_GROUP_PB.fromPb(pb.group) ?? 'single',
    config: pb.config_json === '' ? undefined : (JSON.parse(pb.config_json) as unknown),
    members: pb.members.map((member) => ({ index: member.index, node: toNumber(member.node) })),
    ...(pb.active === null ? {} : { active: pb.active.index }),
    standbyMode: STANDBY_MODE_PB.fromPb(pb.standby_mode) ?? 'hot',
    acks: ACKS_PB.fromPb(pb.acks) ?? 'quorum',
    epoch: toNumber(pb.epoch),
    createdAtMs: toNumber(pb.created_at_ms),
    ...(pb.fork_of === null || pb.fork_of === undefined
      ? {}
      : {
          forkOf: {
            parent: pb.fork_of.parent,
            inboundOffset: toNumber(pb.fork_of.inbound_offset?.offset ?? 0),
          },
        }),
  };
}

export function sendResultFromPb(pb: PbSendResponse): DaemonSendResult {
  return {
    epoch: toNumber(pb.epoch),
    inboundOffset: toNumber(pb.inbound_offset),
    memberIndex: pb.member_index,
    duplicate: pb.duplicate,
    outputs: [...pb.outputs],
  };
}

export function stateResultFromPb(pb: PbStateResponse): DaemonStateResult {
  return {
    name: pb.name,
    epoch: toNumber(pb.epoch),
    memberIndex: pb.member_index,
    appliedThrough: toNumber(pb.applied_through),
    state: pb.state,
  };
}

export function outputFromPb(pb: PbOutput): DaemonOutput {
  return {
    sequence: toNumber(pb.sequence),
    inboundOffset: toNumber(pb.inbound_offset),
    index: pb.index,
    payload: pb.payload,
  };
}

export function moveResultFromPb(pb: PbMoveResponse): DaemonMoveResult {
  return {
    name: pb.name,
    epoch: toNumber(pb.epoch),
    from: toNumber(pb.from),
    to: toNumber(pb.to),
    pauseMs: pb.pause_ms,
    phases: pb.phases.map((phase) => ({ phase: phase.phase, durationMs: phase.duration_ms })),
  };
}
