/**
 * `meshos.v1.Daemons` messages <-> the `DaemonsBackend`'s values. Requests are checked here for
 * their shape, every problem at once, and refused with VALIDATION_FAILED (INVALID_ARGUMENT on the
 * wire); what a valid shape may ask for (kinds, member counts, sizes) is the backend's to judge.
 */
import type {
  DaemonDefinition,
  DaemonEventInput,
  DaemonMemberStatus,
  DaemonStatus,
} from '../daemons/types.js';
import { InputProblems, type NodeId } from '../lib/index.js';
import {
  ACKS_PB,
  DAEMON_GROUP_PB,
  type Int64Out,
  MEMBER_ROLE_PB,
  type PbDaemonDefinition,
  type PbDaemonStatus,
  type PbDeployRequest,
  type PbForkPoint,
  type PbMemberStatus,
  type PbMoveRequest,
  type PbMoveResponse,
  type PbOutput,
  type PbOutputsRequest,
  type PbSendRequest,
  type PbSendResponse,
  type PbStateRequest,
  type PbStateResponse,
  STANDBY_MODE_PB,
  type WireEnum,
} from '../protocol/index.js';
import { requiredName, safeIntegerField, uint64ToNodeId } from './convert-numbers.js';
import type {
  DaemonDeployInput,
  DaemonMoveResult,
  DaemonOutput,
  DaemonSendResult,
  DaemonStateResult,
} from './daemons-backend.js';

/** An enum field left out: 0, or its `*_UNSPECIFIED` name. */
function unspecified(value: string | number): boolean {
  return value === 0 || (typeof value === 'string' && value.endsWith('_UNSPECIFIED'));
}

/** An optional enum field: undefined when UNSPECIFIED (0), a problem when it names no value. */
function optionalEnum<Value extends string>(
  problems: InputProblems,
  field: string,
  wire: WireEnum<Value, string>,
  value: string | number,
): Value | undefined {
  if (unspecified(value)) return undefined;
  const known = wire.fromPb(value);
  if (known === undefined) {
    problems.add(`${field} ${String(value)} is not ${Object.keys(wire.toPb).join(', ')}`);
  }
  return known;
}

function configFromJson(problems: InputProblems, text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    problems.add(`config_json is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

export function deployInputFromPb(request: PbDeployRequest): DaemonDeployInput {
  const problems = new InputProblems();
  const name = requiredName(problems, request.name);
  if (request.kind === '') problems.add('kind is empty');
  const group = optionalEnum(problems, 'group', DAEMON_GROUP_PB, request.group);
  if (unspecified(request.group)) problems.add('group is required: single, standby, replica or fork');
  if (request.members < 1) problems.add('members must be at least 1');
  const config = configFromJson(problems, request.config_json);
  const standbyMode = optionalEnum(problems, 'standby_mode', STANDBY_MODE_PB, request.standby_mode);
  const acks = optionalEnum(problems, 'acks', ACKS_PB, request.acks);
  const forkOf = forkPointFromPb(problems, request.fork_of ?? null);
  problems.throwIfAny('deploy daemon request');
  return {
    name,
    kind: request.kind,
    group: group ?? 'single',
    members: request.members,
    ...(config === undefined ? {} : { config }),
    ...(standbyMode === undefined ? {} : { standbyMode }),
    ...(acks === undefined ? {} : { acks }),
    ...(forkOf === undefined ? {} : { forkOf }),
  };
}

function forkPointFromPb(
  problems: InputProblems,
  pb: PbForkPoint<Int64Out> | null,
): DaemonDeployInput['forkOf'] {
  if (pb === null) return undefined;
  if (pb.parent === '') problems.add('fork_of.parent is empty');
  const parent = pb.parent;
  if (pb.inbound_offset === null) return { parent };
  return {
    parent,
    inboundOffset: safeIntegerField(problems, 'fork_of.inbound_offset', pb.inbound_offset.offset),
  };
}

export function daemonNameFromPb(request: { readonly name: string }): string {
  const problems = new InputProblems();
  const name = requiredName(problems, request.name);
  problems.throwIfAny('daemon request');
  return name;
}

export function sendRequestFromPb(request: PbSendRequest): { name: string; event: DaemonEventInput } {
  const problems = new InputProblems();
  const name = requiredName(problems, request.name);
  const sequence = safeIntegerField(problems, 'sequence', request.sequence);
  if (request.client_id === '' && sequence !== 0) problems.add('sequence is given without a client_id');
  problems.throwIfAny('send request');
  return {
    name,
    event: {
      payload: request.payload,
      ...(request.key === '' ? {} : { key: request.key }),
      ...(request.client_id === '' ? {} : { clientId: request.client_id, sequence }),
    },
  };
}

export function stateRequestFromPb(request: PbStateRequest): { name: string; memberIndex?: number } {
  const name = daemonNameFromPb(request);
  return request.member === null ? { name } : { name, memberIndex: request.member.index };
}

export function outputsRequestFromPb(request: PbOutputsRequest): {
  name: string;
  fromSequence: number;
  follow: boolean;
  memberIndex?: number;
} {
  const problems = new InputProblems();
  const name = requiredName(problems, request.name);
  const fromSequence = safeIntegerField(problems, 'from_sequence', request.from_sequence);
  problems.throwIfAny('outputs request');
  const member = request.member ?? null;
  return {
    name,
    fromSequence,
    follow: request.follow,
    ...(member === null ? {} : { memberIndex: member.index }),
  };
}

export function moveRequestFromPb(request: PbMoveRequest): { name: string; to: NodeId } {
  const problems = new InputProblems();
  const name = requiredName(problems, request.name);
  const to = /^\d+$/.test(String(request.to)) ? uint64ToNodeId('to', request.to) : undefined;
  if (to === undefined) problems.add(`to ${String(request.to)} is not a node id (1 to 2^53-1)`);
  problems.throwIfAny('move request');
  return { name, to: to ?? 0 };
}

function memberStatusToPb(member: DaemonMemberStatus): PbMemberStatus<Int64Out> {
  return {
    index: member.index,
    node: member.node,
    role: MEMBER_ROLE_PB.toPb[member.role],
    synced_through: member.syncedThrough,
    healthy: member.healthy,
  };
}

export function daemonStatusToPb(status: DaemonStatus): PbDaemonStatus<Int64Out> {
  return {
    name: status.name,
    kind: status.kind,
    group: DAEMON_GROUP_PB.toPb[status.group],
    epoch: status.epoch,
    members: status.members.map(memberStatusToPb),
    inbound_through: status.inboundThrough,
    desired_members: status.desiredMembers === undefined ? null : { count: status.desiredMembers },
  };
}

export function daemonDefinitionToPb(definition: DaemonDefinition): PbDaemonDefinition<Int64Out> {
  return {
    name: definition.name,
    kind: definition.kind,
    group: DAEMON_GROUP_PB.toPb[definition.group],
    config_json: definition.config === undefined ? '' : JSON.stringify(definition.config),
    members: definition.members.map(({ index, node }) => ({ index, node })),
    active: definition.active === undefined ? null : { index: definition.active },
    standby_mode: STANDBY_MODE_PB.toPb[definition.standbyMode],
    acks: ACKS_PB.toPb[definition.acks],
    epoch: definition.epoch,
    created_at_ms: definition.createdAtMs,
    fork_of:
      definition.forkOf === undefined
        ? null
        : { parent: definition.forkOf.parent, inbound_offset: { offset: definition.forkOf.inboundOffset } },
  };
}

export function sendResultToPb(result: DaemonSendResult): PbSendResponse<Int64Out> {
  return {
    epoch: result.epoch,
    inbound_offset: result.inboundOffset,
    member_index: result.memberIndex,
    duplicate: result.duplicate,
    outputs: [...result.outputs],
  };
}

export function stateResultToPb(result: DaemonStateResult): PbStateResponse<Int64Out> {
  return {
    name: result.name,
    epoch: result.epoch,
    member_index: result.memberIndex,
    applied_through: result.appliedThrough,
    state: result.state,
  };
}

export function outputToPb(output: DaemonOutput): PbOutput<Int64Out> {
  return {
    sequence: output.sequence,
    inbound_offset: output.inboundOffset,
    index: output.index,
    payload: output.payload,
  };
}

export function moveResultToPb(result: DaemonMoveResult): PbMoveResponse<Int64Out> {
  return {
    name: result.name,
    epoch: result.epoch,
    from: result.from,
    to: result.to,
    pause_ms: result.pauseMs,
    phases: result.phases.map(({ phase, durationMs }) => ({ phase, duration_ms: durationMs })),
  };
}
