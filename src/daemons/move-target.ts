/**
 * Whether a daemon can be moved to a node, checked before anything changes (pure): the node is a
 * node of the mesh, healthy, and not where the active runs already; the daemon has an active.
 */
import type { NodeId } from '../lib/index.js';
import { memberNode } from './directory.js';
import {
  DaemonMoveAlreadyThereError,
  DaemonMoveFailedError,
  DaemonMoveTargetUnhealthyError,
  DaemonMoveTargetUnknownError,
} from './move-errors.js';
import type { DaemonPlacementNode } from './placement.js';
import type { DaemonDefinition } from './types.js';

/** The active's node, after checking that the active can move to `to`; throws the move's typed errors. */
export function checkMoveTarget(
  definition: DaemonDefinition,
  to: NodeId,
  nodes: readonly DaemonPlacementNode[],
): NodeId {
  const { name } = definition;
  const target = nodes.find((node) => node.id === to);
  if (target === undefined) throw new DaemonMoveTargetUnknownError(name, to);
  if (!target.healthy) throw new DaemonMoveTargetUnhealthyError(name, to);
  const activeNode = memberNode(definition, definition.active);
  if (activeNode === undefined)
    throw new DaemonMoveFailedError(name, 'snapshot', `a ${definition.group} group has no active to move`);
  if (activeNode === to) throw new DaemonMoveAlreadyThereError(name, to);
  return activeNode;
}
