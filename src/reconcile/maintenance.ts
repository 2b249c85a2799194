/**
 * A node's maintenance state machine (seed 002's maintenance transitions):
 *
 *   Active -> EnteringMaintenance -> Maintenance -> ExitingMaintenance -> Recovery -> Active
 *   EnteringMaintenance -> DrainFailed {reason}   (the drain deadline passed)
 *   EnteringMaintenance | DrainFailed -> ExitingMaintenance   (the operator asks for Active)
 *   Recovery -> EnteringMaintenance                (maintenance asked for again)
 *
 * The state is committed in the control plane, so its times are wall-clock milliseconds.
 * Applying a transition to the state it leads to is a no-op, so a commit repeated after a lost
 * answer changes nothing.
 */
import type { NodeId } from '../lib/index.js';
import { DEFAULT_DRAIN_DEADLINE_MS, MAX_DRAIN_REASON_ITEMS, RECOVERY_RAMP_UP_MS } from './constants.js';
import { MaintenanceTransitionError } from './errors.js';

export type MaintenanceState =
  | { readonly phase: 'Active' }
  /** Draining: no new placements; daemons and replicas move away until the deadline. */
  | { readonly phase: 'EnteringMaintenance'; readonly deadlineWallMs: number }
  /** Drained: nothing runs or is held here. */
  | { readonly phase: 'Maintenance' }
  | { readonly phase: 'ExitingMaintenance' }
  /** Back, but avoided for new placements until the ramp-up ends. */
  | { readonly phase: 'Recovery'; readonly untilWallMs: number }
  /** The drain did not finish by its deadline; the operator decides (exit, then enter again). */
  | { readonly phase: 'DrainFailed'; readonly reason: string };

export type MaintenancePhase = MaintenanceState['phase'];

/** Every phase of the machine. */
export const MAINTENANCE_PHASES: readonly MaintenancePhase[] = [
  'Active',
  'EnteringMaintenance',
  'Maintenance',
  'ExitingMaintenance',
  'Recovery',
  'DrainFailed',
];

export const ACTIVE: MaintenanceState = { phase: 'Active' };

/** What an operator asked for one node (`meshos node maintenance enter|exit NODE`). */
export interface MaintenanceRequest {
  readonly node: NodeId;
  readonly target: 'maintenance' | 'active';
  /** When entering: the drain deadline; `DEFAULT_DRAIN_DEADLINE_MS` after entering when absent. */
  readonly deadlineWallMs?: number;
  /** When leaving: how long Recovery keeps the node avoided; `RECOVERY_RAMP_UP_MS` when absent. */
  readonly rampUpMs?: number;
}

const ALLOWED: Readonly<Record<MaintenancePhase, readonly MaintenancePhase[]>> = {
  Active: ['EnteringMaintenance'],
  EnteringMaintenance: ['Maintenance', 'DrainFailed', 'ExitingMaintenance'],
  Maintenance: ['ExitingMaintenance'],
  ExitingMaintenance: ['Recovery'],
  Recovery: ['Active', 'EnteringMaintenance'],
  DrainFailed: ['ExitingMaintenance'],
};

/**
 * The state after committing `target`: `current` itself when it is already in `target`'s phase
 * (idempotent), `target` when the machine allows the step, else MAINTENANCE_TRANSITION_INVALID.
 */
export function applyMaintenanceTransition(
  node: NodeId,
  current: MaintenanceState,
  target: MaintenanceState,
): MaintenanceState {
  if (current.phase === target.phase) return current;
  if (!isAllowedTransition(current.phase, target.phase))
    throw new MaintenanceTransitionError(node, current.phase, target.phase);
  return target;
}

/** Whether the machine has a step from `from` to `to`. */
export function isAllowedTransition(from: MaintenancePhase, to: MaintenancePhase): boolean {
  return ALLOWED[from].includes(to);
}

/** What the node holds that a drain must move away first. */
export interface DrainProgress {
  readonly daemons: number;
  readonly replicas: number;
  /** Blob copies on the node whose blob has fewer than its replica count elsewhere (absent: none). */
  readonly blobs?: number;
  /** What is left, named (`daemon orders member 1: ...`), for a DrainFailed reason. */
  readonly left?: readonly string[];
}

/** Why a drain failed: what was left when its deadline passed, the first items named. */
export function drainFailedReason(left: DrainProgress): string {
  const blobs = left.blobs ?? 0;
  const copies = blobs > 0 ? `, and ${blobs} blob copies not yet made elsewhere` : '';
  const counts = `drain deadline passed with ${left.daemons} daemons and ${left.replicas} chain replicas still on the node${copies}`;
  const named = left.left ?? [];
  if (named.length === 0) return counts;
  const shown = named.slice(0, MAX_DRAIN_REASON_ITEMS).join('; ');
  const more =
    named.length > MAX_DRAIN_REASON_ITEMS ? `; and ${named.length - MAX_DRAIN_REASON_ITEMS} more` : '';
  return `${counts}: ${shown}${more}`;
}

/**
 * The one transition a node's state takes next given the operator's request, what it still holds
 * and the wall clock; undefined when it stays.
 */
export function nextMaintenanceTransition(
  state: MaintenanceState,
  request: MaintenanceRequest | undefined,
  left: DrainProgress,
  nowWallMs: number,
): MaintenanceState | undefined {
  const wanted = request?.target;
  switch (state.phase) {
    case 'Active':
      return wanted === 'maintenance'
        ? {
            phase: 'EnteringMaintenance',
            deadlineWallMs: request?.deadlineWallMs ?? nowWallMs + DEFAULT_DRAIN_DEADLINE_MS,
          }
        : undefined;
    case 'EnteringMaintenance':
      if (wanted === 'active') return { phase: 'ExitingMaintenance' };
      if (left.daemons === 0 && left.replicas === 0 && (left.blobs ?? 0) === 0)
        return { phase: 'Maintenance' };
      if (nowWallMs >= state.deadlineWallMs) {
        return { phase: 'DrainFailed', reason: drainFailedReason(left) };
      }
      return undefined;
    case 'Maintenance':
    case 'DrainFailed':
      return wanted === 'active' ? { phase: 'ExitingMaintenance' } : undefined;
    case 'ExitingMaintenance':
      return { phase: 'Recovery', untilWallMs: nowWallMs + (request?.rampUpMs ?? RECOVERY_RAMP_UP_MS) };
    case 'Recovery':
      if (wanted === 'maintenance') {
        return {
          phase: 'EnteringMaintenance',
          deadlineWallMs: request?.deadlineWallMs ?? nowWallMs + DEFAULT_DRAIN_DEADLINE_MS,
        };
      }
      return nowWallMs >= state.untilWallMs ? ACTIVE : undefined;
  }
}

/** Whether the node takes no new placements in this state (anything but Active). */
export function freezesPlacement(state: MaintenanceState): boolean {
  return state.phase !== 'Active';
}

/** Whether what the node runs and holds must move away (a drain, or left after one). */
export function isDraining(state: MaintenanceState): boolean {
  return state.phase === 'EnteringMaintenance' || state.phase === 'Maintenance';
}
