import { InputProblems, type NodeId } from '../../lib/index.js';
import { DaemonRuntime } from '../runtime.js';

/** Shapes shared by the group kinds. Members name their node by the mesh's `NodeId`; placement is the caller's business. */

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

/** Where member `index` runs when the caller gives no placement: node `index + 1` (node ids start at 1). */
export function defaultPlacement(index: number): NodeId {
  return index + 1;
}

/** Refuses a node id from plain JavaScript that is not a `NodeId`; it could match no member. */
export function checkNodeIdArgument(operation: string, nodeId: unknown): asserts nodeId is NodeId {
  const problems = new InputProblems();
  problems.nodeId('nodeId', nodeId);
  problems.throwIfAny(operation);
}
