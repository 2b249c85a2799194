/**
 * `MaintenanceStore`: the nodes' maintenance records in the control plane. Operators ask
 * (`enter`, `exit`) and the maintenance owner commits transitions (`commit`); every write is a
 * compare-and-swap on the record's revision, retried on a conflict a bounded number of times, so
 * a request never overwrites a transition it did not see, nor the reverse. A transition to the
 * phase the node is already in changes nothing: committing twice is a no-op.
 */
import {
  type ControlCompare,
  type ControlPlane,
  maintenanceKey,
  nodeKey,
  unchangedSince,
} from '../control/index.js';
import type { Clock, NodeId } from '../lib/index.js';
import {
  applyMaintenanceTransition,
  MAX_DRAIN_DEADLINE_MS,
  MAX_RECOVERY_RAMP_UP_MS,
  type MaintenanceState,
} from '../reconcile/index.js';
import {
  MaintenanceDrainFailedError,
  MaintenanceDurationError,
  MaintenanceNodeUnknownError,
  MaintenanceNotEnteredError,
  MaintenanceWriteConflictError,
  MaintenanceWriteFencedError,
} from './maintenance-errors.js';
import {
  activeRecord,
  encodeMaintenanceRecord,
  type MaintenanceRecord,
  type StoredMaintenance,
  storedMaintenanceOf,
} from './maintenance-record.js';

/** Compare-and-swap attempts of one request or commit before MAINTENANCE_WRITE_CONFLICT. */
export const MAX_MAINTENANCE_WRITE_ATTEMPTS = 8;

export interface EnterOptions {
  /** The drain's budget from now; absent: DEFAULT_DRAIN_DEADLINE_MS from when the drain starts. */
  readonly deadlineMs?: number;
}

export interface ExitOptions {
  /** How long Recovery keeps the node avoided; absent: RECOVERY_RAMP_UP_MS. */
  readonly rampUpMs?: number;
}

/** What a commit did: `changed` false when the node was in the target's phase already. */
export interface CommitAnswer {
  readonly state: MaintenanceState;
  readonly changed: boolean;
}

export class MaintenanceStore {
  constructor(
    readonly plane: ControlPlane,
    private readonly clock: Pick<Clock, 'wallMs'>,
  ) {}

  /** The node's record; absent when it has none (it is Active). */
  async get(node: NodeId): Promise<StoredMaintenance | undefined> {
    const entry = await this.plane.get(maintenanceKey(node));
    return entry === undefined ? undefined : storedMaintenanceOf(entry);
  }

  /** The node's record, or MAINTENANCE_NODE_UNKNOWN when it is neither registered nor has one. */
  async require(node: NodeId): Promise<MaintenanceRecord> {
    const stored = await this.get(node);
    if (stored !== undefined) return stored.record;
    if ((await this.plane.get(nodeKey(node))) === undefined) throw new MaintenanceNodeUnknownError(node);
    return activeRecord(node);
  }

  /**
   * Asks for the node to be drained and kept in maintenance. Idempotent while it is entering or
   * in maintenance; a failed drain must be exited first (MAINTENANCE_DRAIN_FAILED).
   */
  async enter(node: NodeId, options: EnterOptions = {}): Promise<MaintenanceRecord> {
    const { deadlineMs } = options;
    if (deadlineMs !== undefined)
      checkDuration('MAINTENANCE_DEADLINE_INVALID', 'the drain deadline', deadlineMs, MAX_DRAIN_DEADLINE_MS);
    const nowWallMs = Math.floor(this.clock.wallMs());
    return this.update(node, [], (record) => {
      if (record.state.phase === 'DrainFailed')
        throw new MaintenanceDrainFailedError(node, record.state.reason);
      if (record.request?.target === 'maintenance' && record.state.phase !== 'Active') return undefined;
      return {
        ...record,
        request: {
          target: 'maintenance',
          requestedAtWallMs: nowWallMs,
          ...(deadlineMs === undefined ? {} : { deadlineWallMs: nowWallMs + deadlineMs }),
        },
      };
    });
  }

  /** Asks for the node back in service (through Recovery); MAINTENANCE_NOT_ENTERED when it is Active and not asked to leave. */
  async exit(node: NodeId, options: ExitOptions = {}): Promise<MaintenanceRecord> {
    const { rampUpMs } = options;
    if (rampUpMs !== undefined)
      checkDuration('MAINTENANCE_RAMP_UP_INVALID', 'the ramp-up', rampUpMs, MAX_RECOVERY_RAMP_UP_MS);
    const nowWallMs = Math.floor(this.clock.wallMs());
    return this.update(node, [], (record) => {
      if (record.state.phase === 'Active' && record.request?.target !== 'maintenance')
        throw new MaintenanceNotEnteredError(node);
      if (record.request?.target === 'active') return undefined;
      return {
        ...record,
        request: {
          target: 'active',
          requestedAtWallMs: nowWallMs,
          ...(rampUpMs === undefined ? {} : { rampUpMs }),
        },
      };
    });
  }

  /**
   * Commits `target` as the node's state (the maintenance owner's CommitMaintenanceTransition):
   * a no-op when the node is in that phase already, MAINTENANCE_TRANSITION_INVALID when its
   * machine has no such step.
   */
  async commit(
    node: NodeId,
    target: MaintenanceState,
    fence: readonly ControlCompare[] = [],
  ): Promise<CommitAnswer> {
    let changed = false;
    const nowWallMs = Math.floor(this.clock.wallMs());
    const record = await this.update(node, fence, (current) => {
      const next = applyMaintenanceTransition(node, current.state, target);
      // Decided on each attempt's read: a retry may find the transition made by another writer.
      changed = next !== current.state;
      if (!changed) return undefined;
      return { ...current, state: next, changedAtWallMs: nowWallMs };
    });
    return { state: record.state, changed };
  }

  /**
   * Reads the record, asks `change` for the next one (undefined: keep it) and writes it only if
   * the record is unchanged since the read and `fence` holds; on a conflict, again; when only the
   * fence failed, MAINTENANCE_WRITE_FENCED. A node without a record must be registered: anything
   * about a node the mesh never had is MAINTENANCE_NODE_UNKNOWN.
   */
  private async update(
    node: NodeId,
    fence: readonly ControlCompare[],
    change: (record: MaintenanceRecord) => MaintenanceRecord | undefined,
  ): Promise<MaintenanceRecord> {
    const key = maintenanceKey(node);
    for (let attempt = 1; attempt <= MAX_MAINTENANCE_WRITE_ATTEMPTS; attempt++) {
      const stored = await this.get(node);
      if (stored === undefined && (await this.plane.get(nodeKey(node))) === undefined)
        throw new MaintenanceNodeUnknownError(node);
      const current = stored?.record ?? activeRecord(node);
      const next = change(current);
      if (next === undefined) return current;
      const answer = await this.plane.txn({
        compare: [unchangedSince(key, stored?.modRevision ?? 0), ...fence],
        success: [{ type: 'put', key, value: encodeMaintenanceRecord(next) }],
        failure: [{ type: 'get', key }],
      });
      if (answer.succeeded) return next;
      const result = answer.results[0];
      const seen = result?.type === 'get' ? (result.entry?.modRevision ?? 0) : undefined;
      if (fence.length > 0 && seen === (stored?.modRevision ?? 0))
        throw new MaintenanceWriteFencedError(node);
    }
    throw new MaintenanceWriteConflictError(node, MAX_MAINTENANCE_WRITE_ATTEMPTS);
  }
}

function checkDuration(
  code: 'MAINTENANCE_DEADLINE_INVALID' | 'MAINTENANCE_RAMP_UP_INVALID',
  what: string,
  valueMs: number,
  maxMs: number,
): void {
  if (!Number.isSafeInteger(valueMs) || valueMs < 1 || valueMs > maxMs)
    throw new MaintenanceDurationError(code, what, valueMs, maxMs);
}
