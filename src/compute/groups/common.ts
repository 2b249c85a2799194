import type { InputProblems } from '../../lib/index.js';
import { DaemonRuntime } from '../runtime.js';

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

/** Records what is wrong with the runtime and kind a group was asked to spawn on. */
export function groupTargetProblems(problems: InputProblems, runtime: DaemonRuntime, kind: string): void {
  if (!(runtime instanceof DaemonRuntime)) problems.add('runtime must be a DaemonRuntime');
  problems.text('kind', kind);
}
