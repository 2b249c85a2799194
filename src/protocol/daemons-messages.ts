/**
 * The shapes of `meshos.v1.Daemons` messages as the server and the client both see them, under
 * the loader options of proto-descriptor.ts: 64-bit integers arrive as decimal strings and may be
 * sent as numbers; enums travel as their names; bytes arrive as Buffers; an absent message field
 * arrives as null. Also the enums' names on the wire and back.
 */
import type { PbAcks } from './chains-messages.js';
import type { BytesIn, Int64In, Int64Out } from './messages.js';
import { wireEnum } from './wire-enum.js';

export type PbDaemonGroup =
  | 'GROUP_UNSPECIFIED'
  | 'GROUP_SINGLE'
  | 'GROUP_STANDBY'
  | 'GROUP_REPLICA'
  | 'GROUP_FORK';
export type PbStandbyMode = 'STANDBY_MODE_UNSPECIFIED' | 'STANDBY_HOT' | 'STANDBY_WARM';
export type PbMemberRole = 'ROLE_UNSPECIFIED' | 'ROLE_ACTIVE' | 'ROLE_STANDBY' | 'ROLE_REPLICA';

export interface PbMemberIndex {
  readonly index: number;
}

export interface PbMemberCount {
  readonly count: number;
}

export interface PbInboundOffset<Int64 extends Int64Out = Int64In> {
  readonly offset: Int64;
}

/** A fork group's parent and fork point (null offset in a deploy: the parent's commit offset). */
export interface PbForkPoint<Int64 extends Int64Out = Int64In> {
  readonly parent: string;
  readonly inbound_offset: PbInboundOffset<Int64> | null;
}

/** Enum fields of requests may also hold a number the schema does not name. */
export interface PbDeployRequest {
  readonly name: string;
  readonly kind: string;
  readonly group: PbDaemonGroup | number;
  readonly members: number;
  /** Empty: no config. */
  readonly config_json: string;
  readonly standby_mode: PbStandbyMode | number;
  readonly acks: PbAcks | number;
  /** Null: not a fork. */
  readonly fork_of: PbForkPoint<Int64Out> | null;
}

export interface PbMemberStatus<Int64 extends Int64Out = Int64In> {
  readonly index: number;
  readonly node: Int64;
  readonly role: PbMemberRole;
  /** -1: unknown. */
  readonly synced_through: Int64;
  readonly healthy: boolean;
}

export interface PbDaemonStatus<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly kind: string;
  readonly group: PbDaemonGroup;
  readonly epoch: Int64;
  readonly members: readonly PbMemberStatus<Int64>[];
  readonly inbound_through: Int64;
  /** Null (or absent, from a node before it): no count asked for. */
  readonly desired_members?: PbMemberCount | null;
}

export interface PbDaemonName {
  readonly name: string;
}

export interface PbMemberPlacement<Int64 extends Int64Out = Int64In> {
  readonly index: number;
  readonly node: Int64;
}

export interface PbDaemonDefinition<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly kind: string;
  readonly group: PbDaemonGroup;
  /** Empty: no config. */
  readonly config_json: string;
  readonly members: readonly PbMemberPlacement<Int64>[];
  /** Null for a replica group (no single active). */
  readonly active: PbMemberIndex | null;
  readonly standby_mode: PbStandbyMode;
  readonly acks: PbAcks;
  readonly epoch: Int64;
  readonly created_at_ms: Int64;
  /** Null: not a fork group. */
  readonly fork_of: PbForkPoint<Int64> | null;
}

export interface PbListDaemonsResponse<Int64 extends Int64Out = Int64In> {
  readonly daemons: readonly PbDaemonDefinition<Int64>[];
}

export interface PbSendRequest<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly payload: BytesIn;
  /** Empty: no key. */
  readonly key: string;
  /** Empty: no client id (and `sequence` 0). */
  readonly client_id: string;
  readonly sequence: Int64;
}

export interface PbSendResponse<Int64 extends Int64Out = Int64In> {
  readonly epoch: Int64;
  readonly inbound_offset: Int64;
  readonly member_index: number;
  readonly duplicate: boolean;
  readonly outputs: readonly Uint8Array[];
}

export interface PbStateRequest {
  readonly name: string;
  /** Null: the active (the first member of a replica group). */
  readonly member: PbMemberIndex | null;
}

export interface PbStateResponse<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly epoch: Int64;
  readonly member_index: number;
  readonly applied_through: Int64;
  readonly state: Uint8Array;
}

export interface PbOutputsRequest<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly from_sequence: Int64;
  readonly follow: boolean;
  /** Null: the active's (the first member's of a replica group, whose members each have their own). */
  readonly member: PbMemberIndex | null;
}

export interface PbOutput<Int64 extends Int64Out = Int64In> {
  readonly sequence: Int64;
  readonly inbound_offset: Int64;
  readonly index: number;
  readonly payload: Uint8Array;
}

export interface PbOutputsResponse<Int64 extends Int64Out = Int64In> {
  readonly outputs: readonly PbOutput<Int64>[];
  /**
   * Set on the last message of a stream without `follow` that reached the end of the outputs: a
   * stream that ends without it was cut (the node closing), and the client resumes elsewhere.
   */
  readonly complete: boolean;
}

export interface PbMoveRequest<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly to: Int64;
}

export interface PbMoveResponse<Int64 extends Int64Out = Int64In> {
  readonly name: string;
  readonly epoch: Int64;
  readonly from: Int64;
  readonly to: Int64;
  readonly pause_ms: number;
  readonly phases: readonly { readonly phase: string; readonly duration_ms: number }[];
}

export const DAEMON_GROUP_PB = wireEnum({
  single: 'GROUP_SINGLE',
  standby: 'GROUP_STANDBY',
  replica: 'GROUP_REPLICA',
  fork: 'GROUP_FORK',
} as const);

export const STANDBY_MODE_PB = wireEnum({ hot: 'STANDBY_HOT', warm: 'STANDBY_WARM' } as const);

export const MEMBER_ROLE_PB = wireEnum({
  active: 'ROLE_ACTIVE',
  standby: 'ROLE_STANDBY',
  replica: 'ROLE_REPLICA',
} as const);
