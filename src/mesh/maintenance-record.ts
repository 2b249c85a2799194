/**
 * A node's maintenance record in the control plane (`maintenance/<nodeId>`): the operator's last
 * request and the committed state of the node's maintenance machine (src/reconcile/maintenance.ts),
 * in one key so that a request and a transition are each one compare-and-swap on its revision.
 * Times are wall-clock milliseconds: they cross processes.
 */
import { type ControlEntry, encodeRecord, maintenanceKey, readRecord } from '../control/index.js';
import { isNodeId, type NodeId } from '../lib/index.js';
import {
  ACTIVE,
  MAINTENANCE_PHASES,
  type MaintenancePhase,
  type MaintenanceRequest,
  type MaintenanceState,
} from '../reconcile/index.js';

/** What an operator asked for the node last. */
export interface StoredMaintenanceRequest {
  readonly target: 'maintenance' | 'active';
  /** Entering: the drain deadline (absent: the default from when the drain starts). */
  readonly deadlineWallMs?: number;
  /** Leaving: how long Recovery keeps the node avoided (absent: RECOVERY_RAMP_UP_MS). */
  readonly rampUpMs?: number;
  readonly requestedAtWallMs: number;
}

export interface MaintenanceRecord {
  readonly node: NodeId;
  readonly state: MaintenanceState;
  /** When `state` was committed (the record's creation for a request on an Active node). */
  readonly changedAtWallMs: number;
  readonly request?: StoredMaintenanceRequest;
}

/** A record as read, with the revision a compare-and-swap compares (0: no record, Active). */
export interface StoredMaintenance {
  readonly record: MaintenanceRecord;
  readonly modRevision: number;
}

/** The record of a node that has none: Active, never asked anything. */
export function activeRecord(node: NodeId): MaintenanceRecord {
  return { node, state: ACTIVE, changedAtWallMs: 0 };
}

function wallTime(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    throw new Error(`${what} is not a wall-clock time`);
  return value as number;
}

function readState(value: unknown): MaintenanceState {
  const state = value as Record<string, unknown> | null;
  if (
    typeof state !== 'object' ||
    state === null ||
    !MAINTENANCE_PHASES.includes(state.phase as MaintenancePhase)
  )
    throw new Error('state has no known phase');
  switch (state.phase as MaintenancePhase) {
    case 'EnteringMaintenance':
      return {
        phase: 'EnteringMaintenance',
        deadlineWallMs: wallTime(state.deadlineWallMs, 'deadlineWallMs'),
      };
    case 'Recovery':
      return { phase: 'Recovery', untilWallMs: wallTime(state.untilWallMs, 'untilWallMs') };
    case 'DrainFailed':
      if (typeof state.reason !== 'string') throw new Error('a DrainFailed state has no reason');
      return { phase: 'DrainFailed', reason: state.reason };
    default:
      return { phase: state.phase as 'Active' | 'Maintenance' | 'ExitingMaintenance' };
  }
}

function readRequest(value: unknown): StoredMaintenanceRequest {
  const request = value as Record<string, unknown> | null;
  if (typeof request !== 'object' || request === null) throw new Error('request is not an object');
  if (request.target !== 'maintenance' && request.target !== 'active')
    throw new Error('request target is neither maintenance nor active');
  return {
    target: request.target,
    requestedAtWallMs: wallTime(request.requestedAtWallMs, 'requestedAtWallMs'),
    ...(request.deadlineWallMs === undefined
      ? {}
      : { deadlineWallMs: wallTime(request.deadlineWallMs, 'deadlineWallMs') }),
    ...(request.rampUpMs === undefined ? {} : { rampUpMs: wallTime(request.rampUpMs, 'rampUpMs') }),
  };
}

function readMaintenanceRecord(value: unknown): MaintenanceRecord {
  const record = value as Record<string, unknown> | null;
  if (typeof record !== 'object' || record === null) throw new Error('not an object');
  if (!isNodeId(record.node)) throw new Error('node is not a node id');
  return {
    node: record.node,
    state: readState(record.state),
    changedAtWallMs: wallTime(record.changedAtWallMs, 'changedAtWallMs'),
    ...(record.request === undefined ? {} : { request: readRequest(record.request) }),
  };
}

export function encodeMaintenanceRecord(record: MaintenanceRecord): Uint8Array {
  return encodeRecord(maintenanceKey(record.node), record);
}

/** The stored record; CONTROL_RECORD_DECODE when the bytes are not one. */
export function storedMaintenanceOf(entry: ControlEntry): StoredMaintenance {
  return {
    record: readRecord(entry.key, entry.value, readMaintenanceRecord),
    modRevision: entry.modRevision,
  };
}

/** The record's request as reconcile's maintenance machine reads it (undefined: none). */
export function maintenanceRequestOf(record: MaintenanceRecord | undefined): MaintenanceRequest | undefined {
  const request = record?.request;
  if (record === undefined || request === undefined) return undefined;
  return {
    node: record.node,
    target: request.target,
    ...(request.deadlineWallMs === undefined ? {} : { deadlineWallMs: request.deadlineWallMs }),
    ...(request.rampUpMs === undefined ? {} : { rampUpMs: request.rampUpMs }),
  };
}
