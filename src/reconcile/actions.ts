/**
 * The actions reconcile emits (seed 002's MeshOS actions), one per change it wants to see made.
 * Each names the node it concerns, because reconcile plans for the whole mesh and the executor
 * dispatches each action to the part that owns it (`ownerOf`). In-process times are monotonic
 * (`...MonotonicMs`); wire-record.ts turns them into wall-clock ones before anything is sent.
 */
import { assert, type NodeId } from '../lib/index.js';
import type { MaintenanceState } from './maintenance.js';

export type ReconcileAction =
  /** Start (or restart after a crash) a daemon's member on `node`. */
  | { readonly kind: 'StartDaemon'; readonly daemon: string; readonly node: NodeId }
  /** Stop a daemon's member on `node`; past `deadlineMonotonicMs` its supervisor force-stops it. */
  | {
      readonly kind: 'StopDaemon';
      readonly daemon: string;
      readonly node: NodeId;
      readonly reason: string;
      readonly deadlineMonotonicMs: number;
    }
  /** `node` materialises its replica of `chain` from `source`. */
  | { readonly kind: 'PullReplica'; readonly chain: string; readonly node: NodeId; readonly source: NodeId }
  /** `node` drops its copy of `chain` (it is no longer a member). */
  | { readonly kind: 'DropReplica'; readonly chain: string; readonly node: NodeId }
  /**
   * Leader-only: the chain's `leader` adds a member. `exclude` lists the nodes that are not
   * candidates (members already); `target` is the node chosen, absent only when an operator's
   * request leaves the choice to the placement scorer.
   */
  | {
      readonly kind: 'RequestPlacement';
      readonly chain: string;
      readonly leader: NodeId;
      readonly exclude: readonly NodeId[];
      readonly target?: NodeId;
    }
  /** Leader-only: the chain's `leader` removes `victim` from the members. */
  | {
      readonly kind: 'RequestEviction';
      readonly chain: string;
      readonly leader: NodeId;
      readonly victim: NodeId;
    }
  /** `to` copies `blob` from `from`; `from` then drops its copy unless `keepSource`. */
  | {
      readonly kind: 'MigrateBlob';
      readonly blob: string;
      readonly from: NodeId;
      readonly to: NodeId;
      readonly keepSource: boolean;
    }
  /**
   * MeshOS's addition (seed 002 has no drop for blobs): `node` gives up its copy of `blob`, one
   * beyond the replica count (the record leaves `node` first and never falls below the count).
   */
  | { readonly kind: 'DropBlobCopy'; readonly blob: string; readonly node: NodeId }
  /** Subtract `by` from `blob`'s read heat (a move it caused is not repeated until reads reheat it). */
  | { readonly kind: 'ReduceHeat'; readonly blob: string; readonly by: number }
  /** Placement skips `peer` for `ttlMs`. */
  | { readonly kind: 'MarkAvoid'; readonly peer: NodeId; readonly reason: string; readonly ttlMs: number }
  /** No restart of `daemon` on `node` before `untilMonotonicMs`. */
  | {
      readonly kind: 'ApplyBackoff';
      readonly daemon: string;
      readonly node: NodeId;
      readonly untilMonotonicMs: number;
    }
  /** Commit `node`'s maintenance state `target` to the control plane. */
  | {
      readonly kind: 'CommitMaintenanceTransition';
      readonly node: NodeId;
      readonly target: MaintenanceState;
    };

export type ActionKind = ReconcileAction['kind'];

export const ACTION_KINDS: readonly ActionKind[] = [
  'StartDaemon',
  'StopDaemon',
  'PullReplica',
  'DropReplica',
  'RequestPlacement',
  'RequestEviction',
  'MigrateBlob',
  'DropBlobCopy',
  'ReduceHeat',
  'MarkAvoid',
  'ApplyBackoff',
  'CommitMaintenanceTransition',
];

/** A positive integer, unique in the process that allocated it; 0 means "no action". */
export type ActionId = number;

export const NO_ACTION_ID: ActionId = 0;

/** An emitted action with its id and when it was emitted (monotonic, for queue latency). */
export interface PendingAction {
  readonly id: ActionId;
  readonly emittedAtMonotonicMs: number;
  readonly action: ReconcileAction;
}

/** Hands out action ids 1, 2, 3, ... (0 is reserved); the caller keeps one per process. */
export class ActionIds {
  private nextId: ActionId;

  constructor(firstId: ActionId = 1) {
    assert(
      Number.isSafeInteger(firstId) && firstId > NO_ACTION_ID,
      `first action id ${firstId} must be >= 1`,
    );
    this.nextId = firstId;
  }

  next(): ActionId {
    const id = this.nextId;
    this.nextId += 1;
    return id;
  }

  /** The id `next()` hands out next. */
  peek(): ActionId {
    return this.nextId;
  }
}

/** The part of a node that carries out an action. */
export type ActionOwner = 'daemons' | 'replicas' | 'placement' | 'blobs' | 'avoid-list' | 'maintenance';

export function ownerOf(action: ReconcileAction): ActionOwner {
  switch (action.kind) {
    case 'StartDaemon':
    case 'StopDaemon':
    case 'ApplyBackoff':
      return 'daemons';
    case 'PullReplica':
    case 'DropReplica':
      return 'replicas';
    case 'RequestPlacement':
    case 'RequestEviction':
      return 'placement';
    case 'MigrateBlob':
    case 'DropBlobCopy':
    case 'ReduceHeat':
      return 'blobs';
    case 'MarkAvoid':
      return 'avoid-list';
    case 'CommitMaintenanceTransition':
      return 'maintenance';
  }
}

/** The node an action is carried out on (for a leader-only action, the chain's leader). */
export function nodeOf(action: ReconcileAction): NodeId | undefined {
  switch (action.kind) {
    case 'StartDaemon':
    case 'StopDaemon':
    case 'ApplyBackoff':
    case 'PullReplica':
    case 'DropReplica':
    case 'DropBlobCopy':
    case 'CommitMaintenanceTransition':
      return action.node;
    case 'RequestPlacement':
    case 'RequestEviction':
      return action.leader;
    case 'MigrateBlob':
      return action.to;
    case 'MarkAvoid':
      return action.peer;
    case 'ReduceHeat':
      return undefined;
  }
}

/**
 * What an action changes, as a key: two actions with the same key ask for the same change, so the
 * executor holds at most one of them (a second is a duplicate and dropped).
 */
export function actionKey(action: ReconcileAction): string {
  switch (action.kind) {
    case 'StartDaemon':
    case 'StopDaemon':
    case 'ApplyBackoff':
      return `${action.kind}:${action.daemon}@${action.node}`;
    case 'PullReplica':
    case 'DropReplica':
      return `${action.kind}:${action.chain}@${action.node}`;
    case 'RequestPlacement':
      return `${action.kind}:${action.chain}->${action.target ?? 'scored'}`;
    case 'RequestEviction':
      return `${action.kind}:${action.chain}-${action.victim}`;
    case 'MigrateBlob':
      return `${action.kind}:${action.blob}:${action.from}->${action.to}`;
    case 'DropBlobCopy':
      return `${action.kind}:${action.blob}@${action.node}`;
    case 'ReduceHeat':
      return `${action.kind}:${action.blob}`;
    case 'MarkAvoid':
      return `${action.kind}:${action.peer}`;
    case 'CommitMaintenanceTransition':
      return `${action.kind}:${action.node}:${action.target.phase}`;
  }
}
