/** Small builders of observed and desired states for the reconcile unit tests. */
import type { NodeId } from '../../../src/lib/index.js';
import {
  ACTIVE,
  ActionIds,
  type DesiredState,
  type ObservedNode,
  type ObservedState,
  type ReconcileAction,
  type ReconcileResult,
  type ReconcileTime,
  reconcile,
} from '../../../src/reconcile/index.js';

export const NOW: ReconcileTime = { monotonicMs: 5_000, wallMs: 1_700_000_005_000 };

export function observedNode(id: NodeId, overrides: Partial<ObservedNode> = {}): ObservedNode {
  return {
    id,
    health: 'healthy',
    zone: `zone-${id % 3}`,
    capacity: { daemons: 100, chains: 100 },
    load: 0,
    maintenance: ACTIVE,
    daemons: [],
    replicas: [],
    ...overrides,
  };
}

export function observedOf(overrides: Partial<ObservedState> = {}): ObservedState {
  return { nodes: [], chains: [], blobs: [], rtt: [], avoid: [], pending: [], ...overrides };
}

export function desiredOf(overrides: Partial<DesiredState> = {}): DesiredState {
  return { daemons: [], chains: [], blobs: [], maintenance: [], ...overrides };
}

/** Nodes 1..count, all healthy and empty. */
export function nodes(count: number): ObservedNode[] {
  return Array.from({ length: count }, (_, index) => observedNode(index + 1));
}

export function running(name: string) {
  return { name, running: true, crashTimesWallMs: [] };
}

/** One pass at NOW with ids from 1. */
export function pass(
  observed: ObservedState,
  desired: DesiredState,
  time: ReconcileTime = NOW,
): ReconcileResult {
  return reconcile(observed, desired, time, new ActionIds());
}

/** The actions of `result`, without ids and times, for comparing with what a test expects. */
export function actionsOf(result: ReconcileResult): ReconcileAction[] {
  return result.actions.map((pending) => pending.action);
}

export function kindsOf(result: ReconcileResult): string[] {
  return result.actions.map((pending) => pending.action.kind);
}
