/**
 * Applies one member's inbound events to its kind's daemon: exactly-once per
 * `(clientId, sequence)` (dedup-table.ts), every failure a typed error (guarded-process.ts),
 * and a failed event undone. It is the `EventApplier` a member's `MemberCore` drives, in
 * inbound-offset order, one event at a time; its snapshot is the member envelope
 * (member-snapshot.ts) and `ExactlyOnceApplier.restore` rebuilds it from one.
 *
 * Undo: the applier keeps a checkpoint of its daemon's state and the events applied since; it
 * checkpoints again after `ROLLBACK_CHECKPOINT_MIN_EVENTS` events, or more for a large state (so
 * that copying it costs at most `ROLLBACK_CHECKPOINT_STATE_BYTES_PER_EVENT` an event), and always
 * by `MAX_ROLLBACK_LOG_EVENTS` events or `MAX_ROLLBACK_LOG_BYTES` of payload.
 * When an event fails (the kind throws, misses the deadline, or answers too much) the daemon
 * instance is dropped, a fresh one is created from the kind, restored from the checkpoint, and
 * the events since are applied to it again; the failed event then counts as applied with no
 * effect. So a failed event leaves the state as it was, even for a kind that changed its state
 * before it threw, and a late answer of a timed-out call reaches a daemon no one uses. If the
 * undo itself fails (a kind that does not give the same answer twice) the applier is broken
 * (`DAEMON_MEMBER_BROKEN`, for every later call) and the node must rebuild the member from a
 * snapshot and the chain.
 */
import type { DaemonEvent, MeshDaemon } from '../compute/index.js';
import { assert, type Clock, isMeshError, type MeshError } from '../lib/index.js';
import {
  DEFAULT_DEDUP_LIMITS,
  type DedupLimits,
  DedupTable,
  failureOutcome,
  recordedFailure,
} from './dedup-table.js';
import { DaemonMemberBrokenError, DaemonMemberBusyError } from './errors.js';
import {
  DEFAULT_GUARD_LIMITS,
  type GuardLimits,
  guardedProcess,
  type ProcessSite,
} from './guarded-process.js';
import {
  MAX_ROLLBACK_LOG_BYTES,
  MAX_ROLLBACK_LOG_EVENTS,
  ROLLBACK_CHECKPOINT_MIN_EVENTS,
  ROLLBACK_CHECKPOINT_STATE_BYTES_PER_EVENT,
} from './limits.js';
import { decodeMemberSnapshot, encodeMemberSnapshot } from './member-snapshot.js';
import type { DaemonKind, DaemonKindContext, InboundEventRecord } from './types.js';

export interface ExactlyOnceApplierOptions {
  readonly kind: DaemonKind;
  readonly config: unknown;
  readonly context: DaemonKindContext;
  /** Runs the `process` deadline. */
  readonly clock: Clock;
  readonly guardLimits?: GuardLimits;
  readonly dedupLimits?: DedupLimits;
}

/** What applying an event answered: its outputs, or for a retry the first answer's. */
export interface AppliedEvent {
  readonly outputs: readonly Uint8Array[];
  /** True when `(clientId, sequence)` was answered before: nothing was applied now. */
  readonly duplicate: boolean;
  /** This event's inbound offset, or for a duplicate the offset of the event first answered. */
  readonly inboundOffset: number;
}

interface LoggedEvent {
  readonly event: DaemonEvent;
  readonly inboundOffset: number;
}

export class ExactlyOnceApplier {
  private daemonInstance: MeshDaemon;
  private nextOffset: number;
  /** The daemon's state when `sinceCheckpoint` began; undefined for a fresh daemon's empty state. */
  private checkpoint: Uint8Array | undefined;
  private sinceCheckpoint: LoggedEvent[] = [];
  private sinceCheckpointBytes = 0;
  private applying = false;
  private broken: DaemonMemberBrokenError | undefined;

  private constructor(
    private readonly options: ExactlyOnceApplierOptions,
    private readonly dedup: DedupTable,
    appliedThrough: number,
    state: Uint8Array | undefined,
  ) {
    this.nextOffset = appliedThrough;
    this.checkpoint = state;
    this.daemonInstance = this.freshDaemon(state);
  }

  /** An applier with empty state. Throws `DAEMON_MEMBER_BROKEN` when the kind cannot create a daemon. */
  static create(options: ExactlyOnceApplierOptions): ExactlyOnceApplier {
    return new ExactlyOnceApplier(options, new DedupTable(options.dedupLimits), 0, undefined);
  }

  /**
   * An applier from the bytes `snapshot()` gave: `DAEMON_STATE_INVALID` when they are not a
   * member snapshot, `DAEMON_MEMBER_BROKEN` when the daemon refuses its state.
   */
  static restore(options: ExactlyOnceApplierOptions, snapshot: Uint8Array): ExactlyOnceApplier {
    const decoded = decodeMemberSnapshot(snapshot, options.dedupLimits ?? DEFAULT_DEDUP_LIMITS);
    return new ExactlyOnceApplier(options, decoded.dedup, decoded.appliedThrough, decoded.state);
  }

  /** One past the offset of the last event applied (refused ones included). */
  get appliedThrough(): number {
    return this.nextOffset;
  }

  /** The running daemon (for health, saturation and control signals); a new one after an undo. */
  get daemon(): MeshDaemon {
    return this.daemonInstance;
  }

  /** Clients whose last answer is kept, least recently applied first. */
  dedupEntries(): ReturnType<DedupTable['list']> {
    return this.dedup.list();
  }

  /**
   * Applies the event at `inboundOffset` (above every offset applied before; offsets may skip).
   * Resolves with its outputs, or a retry's first answer. Rejects with the event's typed error
   * when it changed nothing: `DAEMON_PROCESS_FAILED`, `DAEMON_PROCESS_TIMEOUT`,
   * `DAEMON_EVENT_TOO_LARGE`, `DAEMON_SEQUENCE_STALE`, or a retry's recorded failure; with
   * `DAEMON_MEMBER_BROKEN` when the applier can go on no more; with `DAEMON_MEMBER_BUSY` when
   * called before the previous call settled.
   */
  async apply(record: InboundEventRecord, inboundOffset: number): Promise<AppliedEvent> {
    this.checkUsable();
    assert(
      inboundOffset >= this.nextOffset,
      () =>
        `daemon ${this.site(inboundOffset).daemonName} applies offset ${inboundOffset} below ${this.nextOffset}`,
    );
    this.applying = true;
    try {
      return await this.applyNow(record, inboundOffset);
    } finally {
      this.applying = false;
    }
  }

  /** The daemon's own load in [0, 1]; a kind that throws or answers no number counts as full. */
  saturation(): number {
    try {
      const value = this.daemonInstance.saturation();
      return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 1;
    } catch {
      return 1;
    }
  }

  /** The daemon's own snapshot (what `meshos daemon state` shows). */
  state(): Uint8Array {
    this.checkUsable();
    return this.daemonState();
  }

  /** The member snapshot: applied offset, dedup table and daemon state. Only between events. */
  snapshot(): Uint8Array {
    this.checkUsable();
    return encodeMemberSnapshot({
      appliedThrough: this.nextOffset,
      dedup: this.dedup,
      state: this.daemonState(),
    });
  }

  private checkUsable(): void {
    if (this.broken !== undefined) throw this.broken;
    if (this.applying) throw new DaemonMemberBusyError(this.options.context.daemonName);
  }

  private async applyNow(record: InboundEventRecord, inboundOffset: number): Promise<AppliedEvent> {
    this.nextOffset = inboundOffset + 1;
    const { clientId, sequence } = record;
    const tracked = clientId !== undefined && sequence !== undefined;
    if (tracked) {
      const check = this.dedup.check(clientId, sequence);
      if (check.type === 'duplicate') {
        const { entry } = check;
        if (entry.outcome.type === 'failed') throw recordedFailure(entry.outcome);
        return { outputs: entry.outcome.outputs, duplicate: true, inboundOffset: entry.inboundOffset };
      }
    }
    const event: DaemonEvent =
      record.key === undefined ? { payload: record.payload } : { payload: record.payload, key: record.key };
    let outputs: readonly Uint8Array[] = [];
    let failure: MeshError | undefined;
    try {
      outputs = await this.process(this.daemonInstance, event, inboundOffset);
    } catch (error) {
      if (!isMeshError(error)) throw error;
      failure = error;
    }
    if (failure === undefined)
      this.logApplied({ event: { ...event, payload: event.payload.slice() }, inboundOffset });
    else await this.undo();
    if (tracked) {
      const outcome = failure === undefined ? { type: 'applied' as const, outputs } : failureOutcome(failure);
      this.dedup.record({ clientId, sequence, inboundOffset, outcome });
    }
    if (failure !== undefined) throw failure;
    return { outputs, duplicate: false, inboundOffset };
  }

  private process(
    daemon: MeshDaemon,
    event: DaemonEvent,
    inboundOffset: number,
  ): Promise<readonly Uint8Array[]> {
    const { clock, guardLimits = DEFAULT_GUARD_LIMITS } = this.options;
    return guardedProcess(daemon, event, this.site(inboundOffset), clock, guardLimits);
  }

  private logApplied(logged: LoggedEvent): void {
    this.sinceCheckpoint.push(logged);
    this.sinceCheckpointBytes += logged.event.payload.length;
    const checkpointBytes = this.checkpoint?.length ?? 0;
    const worthIt = Math.max(
      ROLLBACK_CHECKPOINT_MIN_EVENTS,
      Math.ceil(checkpointBytes / ROLLBACK_CHECKPOINT_STATE_BYTES_PER_EVENT),
    );
    if (
      this.sinceCheckpoint.length >= Math.min(worthIt, MAX_ROLLBACK_LOG_EVENTS) ||
      this.sinceCheckpointBytes >= MAX_ROLLBACK_LOG_BYTES
    ) {
      this.checkpoint = this.daemonState();
      this.sinceCheckpoint = [];
      this.sinceCheckpointBytes = 0;
    }
  }

  /** Replaces the daemon by a fresh one at the checkpoint with the events since applied again. */
  private async undo(): Promise<void> {
    const daemon = this.freshDaemon(this.checkpoint);
    for (const logged of this.sinceCheckpoint) {
      try {
        await this.process(daemon, logged.event, logged.inboundOffset);
      } catch (error) {
        throw this.breakWith(
          `re-applying the event at ${logged.inboundOffset} to undo a failed one failed`,
          error,
        );
      }
    }
    this.daemonInstance = daemon;
  }

  private freshDaemon(state: Uint8Array | undefined): MeshDaemon {
    const { kind, config, context } = this.options;
    try {
      const daemon = kind.create(config, context);
      if (state !== undefined && daemon.restore !== undefined) daemon.restore(state);
      return daemon;
    } catch (error) {
      throw this.breakWith(
        state === undefined ? 'the kind failed to create a daemon' : 'the daemon failed to restore its state',
        error,
      );
    }
  }

  private daemonState(): Uint8Array {
    try {
      return this.daemonInstance.snapshot?.() ?? new Uint8Array(0);
    } catch (error) {
      throw this.breakWith('the daemon failed to take a snapshot', error);
    }
  }

  private breakWith(reason: string, cause: unknown): DaemonMemberBrokenError {
    this.broken = new DaemonMemberBrokenError(this.options.context.daemonName, reason, cause);
    return this.broken;
  }

  private site(inboundOffset: number): ProcessSite {
    return { daemonName: this.options.context.daemonName, inboundOffset };
  }
}
