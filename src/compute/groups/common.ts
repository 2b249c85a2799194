/** Shapes shared by the group kinds. Node ids are plain ids: placement is the caller's business. */

export type NodeId = string;

export type MemberRole = 'active' | 'standby';

export interface MemberInfo {
  readonly index: number;
  readonly nodeId: NodeId;
  readonly originHash: bigint;
  readonly role: MemberRole;
  readonly healthy: boolean;
  /** Inbound position the member's state covers (its last restored snapshot, or all it applied). */
  readonly syncedThrough: number;
}

export type GroupHealth =
  | { readonly status: 'healthy' }
  | { readonly status: 'degraded'; readonly healthy: number; readonly total: number }
  | { readonly status: 'dead' };
