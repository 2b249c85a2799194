/** Alarm requests and answers: etcd's AlarmRequest / AlarmMember and our alarm command. */
import { type AlarmMember, type AlarmType, InvalidRequestError } from '../kv/index.js';
import type { NodeId } from '../lib/index.js';
import type { Uint64Id } from '../protocol/index.js';
import { uint64Out, uint64ToNodeId } from './convert-numbers.js';

export type PbAlarmAction = 'Get' | 'Activate' | 'Deactivate';
export type PbAlarmType = 'None' | 'Nospace' | 'Corrupt';

export interface PbAlarmRequest {
  readonly action: PbAlarmAction;
  readonly memberID: Uint64Id;
  readonly alarm: PbAlarmType;
}

export interface PbAlarmMember {
  readonly memberID: string;
  readonly alarm: PbAlarmType;
}

/** What an Alarm call asks: list (optionally one type), or raise / clear one member's alarm. */
export type AlarmCall =
  | { readonly action: 'get'; readonly alarm: AlarmType | undefined }
  | { readonly action: 'activate' | 'deactivate'; readonly memberId: NodeId; readonly alarm: AlarmType }
  /** Raising or clearing etcd's NONE, which changes nothing whatever member it names. */
  | { readonly action: 'none' };

function alarmTypeFromPb(alarm: PbAlarmType): AlarmType | undefined {
  switch (alarm) {
    case 'None':
      return undefined;
    case 'Nospace':
      return 'NOSPACE';
    default:
      // CORRUPT alarms come from etcd's corruption checker, which MeshOS does not run.
      throw new InvalidRequestError(`alarm type ${String(alarm)} is not supported`);
  }
}

export function alarmCallFromPb(pb: PbAlarmRequest): AlarmCall {
  const alarm = alarmTypeFromPb(pb.alarm);
  switch (pb.action) {
    case 'Get':
      return { action: 'get', alarm };
    case 'Activate':
    case 'Deactivate':
      if (alarm === undefined) return { action: 'none' };
      return {
        action: pb.action === 'Activate' ? 'activate' : 'deactivate',
        memberId: alarmMemberId(pb.memberID),
        alarm,
      };
    default:
      throw new InvalidRequestError(`unknown alarm action ${String(pb.action)}`);
  }
}

/** The member a raised or cleared alarm belongs to: a uint64 on the wire, a `NodeId` inside. */
function alarmMemberId(value: Uint64Id): NodeId {
  const id = uint64ToNodeId('memberID', value);
  if (id === undefined) throw new InvalidRequestError(`memberID ${value} is not a node id (1..2^53-1)`);
  return id;
}

export function alarmMemberToPb(member: AlarmMember): PbAlarmMember {
  return { memberID: uint64Out(member.memberId), alarm: 'Nospace' };
}
